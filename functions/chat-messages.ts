import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/chat-messages.ts). */
const handlers = () => import('./handlers/chat-messages.js');

app.http('chatMessages', {
  route: 'chat/threads/{chatThreadId}/messages',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatMessages'),
});

app.http('chatMessage', {
  route: 'chat/threads/{chatThreadId}/messages/{chatMessageId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatMessage'),
});
