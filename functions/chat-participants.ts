import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/chat-participants.ts). */
const handlers = () => import('./handlers/chat-participants.js');

/** ACS Chat API 2025-03-15: participants, read receipts and typing notifications of a thread. */
app.http('chatParticipants', {
  route: 'chat/threads/{chatThreadId}/participants',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatParticipants'),
});

app.http('chatParticipantsAdd', {
  route: 'chat/threads/{chatThreadId}/participants/:add',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatParticipantsAdd'),
});

app.http('chatParticipantsRemove', {
  route: 'chat/threads/{chatThreadId}/participants/:remove',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatParticipantsRemove'),
});

app.http('chatReadReceipts', {
  route: 'chat/threads/{chatThreadId}/readReceipts',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatReadReceipts'),
});

app.http('chatTyping', {
  route: 'chat/threads/{chatThreadId}/typing',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'chatTyping'),
});
