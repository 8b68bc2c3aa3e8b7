import { app } from '@azure/functions';
import { recordingPurgeItemSchema } from '../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../shared/queues/work-handler.js';
import { poisonQueueOf, WORK_QUEUES } from '../shared/queues/work-queues.js';
import { planRecordingPurge } from '../shared/retention/purge-planners.js';
import { purgeSchedule } from '../shared/retention/purge-schedules.js';
import { recordPoisonedItem, workRecordingPurgeItem } from '../shared/retention/purge-workers.js';
import { services } from '../shared/services.js';

/**
 * The planner: finds expired recordings in every geography (by their `expiresAt` index tag) and
 * enqueues one work item each (one per geography for rejected landing files), recorded as one run
 * (management API, purge runs). Every 15 minutes unless RECORDING_PURGE_SCHEDULE says otherwise.
 */
app.timer('recordingPurge', {
  schedule: purgeSchedule('recordingPurge'),
  handler: async () => {
    await planRecordingPurge(services());
  },
});

/** The workers, on every instance: one recording each (kept if it names a held identity), counted into its run once. */
app.storageQueue('recordingPurgeWork', {
  queueName: WORK_QUEUES.recordingPurge,
  connection: 'AzureWebJobsStorage',
  handler: workHandler('recording.purge', recordingPurgeItemSchema, () => services().logger, (item) => workRecordingPurgeItem(services(), item)),
});

/** Items that failed on every attempt: counted as failed in their run. */
app.storageQueue('recordingPurgePoison', {
  queueName: poisonQueueOf(WORK_QUEUES.recordingPurge),
  connection: 'AzureWebJobsStorage',
  handler: poisonHandler('recording.purge', recordingPurgeItemSchema, () => services().logger, (item) => recordPoisonedItem(services(), 'recordingPurge', item)),
});
