import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { emailDeliveryQueue } from '../../shared/email/email-delivery-output.js';
import { parseEmailWorkItem } from '../../shared/email/email-work-item.js';
import { services } from '../../shared/services.js';

/**
 * Background e-mail delivery: `emailDelivery` takes one work item from the `work-email-delivery`
 * queue and delivers that operation to its geography's SMTP relay (a malformed item fails, and after
 * maxDequeueCount attempts the host moves it to the poison queue). `emailDeliveryScheduler` (every
 * 30 s, EMAIL_DELIVERY_SCHEDULE) enqueues every operation whose retry is due, that no worker took, or
 * whose worker died, so delivery survives restarts.
 */
export const emailDelivery: StorageQueueHandler = async (message, context) => {
  const svc = services();
  const item = parseEmailWorkItem(message);
  const outcome = await svc.email.delivery.process(item);
  svc.logger.debug('email.delivery_run', { correlationId: context.invocationId, resourceId: item.resourceId, geography: item.geography, code: outcome });
};

export const emailDeliveryScheduler: TimerHandler = async (_timer, context) => {
  const items = await services().email.dueWork();
  if (items.length > 0) context.extraOutputs.set(emailDeliveryQueue, items);
};
