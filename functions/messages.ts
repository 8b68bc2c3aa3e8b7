import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/messages.ts). */
const handlers = () => import('./handlers/messages.js');

app.http('messagesNotificationsSend', {
  route: 'messages/notifications:send',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'messagesNotificationsSend'),
});

app.http('messagesStream', {
  route: 'messages/streams/{id}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'messagesStream'),
});

app.http('messagesTemplates', {
  route: 'messages/channels/{channelId}/templates',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'messagesTemplates'),
});
