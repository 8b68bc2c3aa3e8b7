import { app } from '@azure/functions';
import { scheduleReference } from '../shared/timer-schedules.js';
import { EMAIL_DELIVERY_QUEUE, emailDeliveryQueue } from '../shared/email/email-delivery-output.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/email-delivery.ts). */
const handlers = () => import('./handlers/email-delivery.js');

app.storageQueue('emailDelivery', {
  queueName: EMAIL_DELIVERY_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'emailDelivery'),
});

app.timer('emailDeliveryScheduler', {
  schedule: scheduleReference('emailDelivery'),
  extraOutputs: [emailDeliveryQueue],
  handler: lazyHandler(handlers, 'emailDeliveryScheduler'),
});
