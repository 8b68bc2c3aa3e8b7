import { output } from '@azure/functions';

/**
 * The queue of e-mail delivery work items, and the output binding that writes to it: one object,
 * declared by the registrations of `emailSend` and `emailDeliveryScheduler` (functions/email.ts,
 * functions/email-delivery.ts) and set by their handlers. Kept apart from the handlers so that
 * registering the functions loads nothing else (see shared/lazy-handler.ts).
 */
export const EMAIL_DELIVERY_QUEUE = 'work-email-delivery';

export const emailDeliveryQueue = output.storageQueue({ queueName: EMAIL_DELIVERY_QUEUE, connection: 'AzureWebJobsStorage' });
