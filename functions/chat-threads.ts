import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/chat-threads.ts). */
const handlers = () => import('./handlers/chat-threads.js');

/** ACS Chat API 2025-03-15: threads (for @azure/communication-chat 1.6 ChatClient). */
app.http('chatThreads', {
  route: 'chat/threads',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatThreads'),
});

app.http('chatThread', {
  route: 'chat/threads/{chatThreadId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatThread'),
});
