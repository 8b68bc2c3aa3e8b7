import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { emailDeliveryQueue } from '../shared/email/email-delivery-output.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/email.ts). */
const handlers = () => import('./handlers/email.js');

app.http('emailSend', {
  route: 'emails:send',
  methods: [...ALL_METHODS],
  extraOutputs: [emailDeliveryQueue],
  handler: lazyHandler(handlers, 'emailSend'),
});

app.http('emailOperation', {
  route: 'emails/operations/{operationId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'emailOperation'),
});
