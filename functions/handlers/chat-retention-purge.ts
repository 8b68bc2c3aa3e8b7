import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { chatRetentionItemSchema } from '../../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../../shared/queues/work-handler.js';
import { planChatRetention } from '../../shared/retention/purge-planners.js';
import { recordPoisonedItem, workChatRetentionItem } from '../../shared/retention/purge-workers.js';
import { services } from '../../shared/services.js';

export const chatRetentionPurge: TimerHandler = async () => {
  await planChatRetention(services());
};

export const chatRetentionWork: StorageQueueHandler = workHandler('retention', chatRetentionItemSchema, () => services().logger, (item) => workChatRetentionItem(services(), item));

export const chatRetentionPoison: StorageQueueHandler = poisonHandler('retention', chatRetentionItemSchema, () => services().logger, (item) => recordPoisonedItem(services(), 'chatRetention', item));
