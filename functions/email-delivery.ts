import { app, output } from '@azure/functions';
import { emailDeliverySchedule } from '../shared/email/email-scheduler.js';
import { EMAIL_DELIVERY_QUEUE, parseEmailWorkItem } from '../shared/email/email-work-item.js';
import { services } from '../shared/services.js';

/**
 * Background e-mail delivery: `emailDelivery` takes one work item from the `work-email-delivery`
 * queue and delivers that operation to its geography's SMTP relay (a malformed item fails, and after
 * maxDequeueCount attempts the host moves it to the poison queue). `emailDeliveryScheduler` (every
 * 30 s, EMAIL_DELIVERY_SCHEDULE) enqueues every operation whose retry is due, that no worker took, or
 * whose worker died, so delivery survives restarts.
 */
const emailDeliveryQueue = output.storageQueue({ queueName: EMAIL_DELIVERY_QUEUE, connection: 'AzureWebJobsStorage' });

app.storageQueue('emailDelivery', {
  queueName: EMAIL_DELIVERY_QUEUE,
  connection: 'AzureWebJobsStorage',
  handler: async (message, context) => {
    const svc = services();
    const item = parseEmailWorkItem(message);
    const outcome = await svc.email.delivery.process(item);
    svc.logger.debug('email.delivery_run', { correlationId: context.invocationId, resourceId: item.resourceId, geography: item.geography, code: outcome });
  },
});

app.timer('emailDeliveryScheduler', {
  schedule: emailDeliverySchedule(),
  extraOutputs: [emailDeliveryQueue],
  handler: async (_timer, context) => {
    const items = await services().email.dueWork();
    if (items.length > 0) context.extraOutputs.set(emailDeliveryQueue, items);
  },
});
