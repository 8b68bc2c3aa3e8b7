import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/events-send-test.ts). */
const handlers = () => import('./handlers/events-send-test.js');

/** `POST {endpoint}events/:sendTest`: sends test events through the outbox, like Event Grid's "send test event". */
app.http('eventsSendTest', {
  route: 'events/:sendTest',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'eventsSendTest'),
});
