import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { planPrivacyRequests, recordPoisonedPrivacyItem, workPrivacyItem } from '../../shared/privacy/privacy-worker.js';
import { privacyItemSchema } from '../../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../../shared/queues/work-handler.js';
import { services } from '../../shared/services.js';

export const privacyWorker: TimerHandler = async () => {
  await planPrivacyRequests(services());
};

export const privacyWork: StorageQueueHandler = workHandler('privacy', privacyItemSchema, () => services().logger, (item) => workPrivacyItem(services(), item));

export const privacyPoison: StorageQueueHandler = poisonHandler('privacy', privacyItemSchema, () => services().logger, (item) => recordPoisonedPrivacyItem(services(), item));
