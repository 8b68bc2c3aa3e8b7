import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { registerQueryRoute } from '../shared/http/query-routes.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/messages.ts). */
const handlers = () => import('./handlers/messages.js');

// Each route is served at its path (`{endpoint}messages/...`) and, for
// @azure-rest/communication-messages, with its path in the endpoint's `resource` parameter
// (shared/http/query-routes.ts): registered here, so the catch-all route finds them before any
// handler has loaded.

const messagesNotificationsSend = lazyHandler(handlers, 'messagesNotificationsSend');
app.http('messagesNotificationsSend', { route: 'messages/notifications:send', methods: [...ALL_METHODS], handler: messagesNotificationsSend });
registerQueryRoute('messages/notifications:send', 'messagesNotificationsSend', messagesNotificationsSend);

const messagesStream = lazyHandler(handlers, 'messagesStream');
app.http('messagesStream', { route: 'messages/streams/{id}', methods: [...ALL_METHODS], handler: messagesStream });
registerQueryRoute('messages/streams/{id}', 'messagesStream', messagesStream);

const messagesTemplates = lazyHandler(handlers, 'messagesTemplates');
app.http('messagesTemplates', { route: 'messages/channels/{channelId}/templates', methods: [...ALL_METHODS], handler: messagesTemplates });
registerQueryRoute('messages/channels/{channelId}/templates', 'messagesTemplates', messagesTemplates);
