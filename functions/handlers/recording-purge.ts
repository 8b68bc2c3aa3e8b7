import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { recordingPurgeItemSchema } from '../../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../../shared/queues/work-handler.js';
import { planRecordingPurge } from '../../shared/retention/purge-planners.js';
import { recordPoisonedItem, workRecordingPurgeItem } from '../../shared/retention/purge-workers.js';
import { services } from '../../shared/services.js';

export const recordingPurge: TimerHandler = async () => {
  await planRecordingPurge(services());
};

export const recordingPurgeWork: StorageQueueHandler = workHandler('recording.purge', recordingPurgeItemSchema, () => services().logger, (item) => workRecordingPurgeItem(services(), item));

export const recordingPurgePoison: StorageQueueHandler = poisonHandler('recording.purge', recordingPurgeItemSchema, () => services().logger, (item) => recordPoisonedItem(services(), 'recordingPurge', item));
