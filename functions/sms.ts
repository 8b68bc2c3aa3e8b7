import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/sms.ts). */
const handlers = () => import('./handlers/sms.js');

/**
 * ACS SMS API 2021-03-07 (`SmsClient.send` of @azure/communication-sms 1.1), resource key: one
 * message to 1-100 recipients, 202 with a result per recipient. The operation log names the numbers
 * (never the text).
 */
app.http('sms', {
  route: 'sms',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'sms'),
});
