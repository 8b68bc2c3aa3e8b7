import { app } from '@azure/functions';
import { WORK_QUEUES, poisonQueueOf } from '../shared/queues/work-queues.js';
import { scheduleReference } from '../shared/timer-schedules.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/recording-purge.ts). */
const handlers = () => import('./handlers/recording-purge.js');

/**
 * The planner: finds expired recordings in every geography (by their `expiresAt` index tag) and
 * enqueues one work item each (one per geography for rejected landing files), recorded as one run
 * (management API, purge runs). Every 15 minutes unless RECORDING_PURGE_SCHEDULE says otherwise.
 */
app.timer('recordingPurge', {
  schedule: scheduleReference('recordingPurge'),
  handler: lazyHandler(handlers, 'recordingPurge'),
});

/** The workers, on every instance: one recording each (kept if it names a held identity), counted into its run once. */
app.storageQueue('recordingPurgeWork', {
  queueName: WORK_QUEUES.recordingPurge,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'recordingPurgeWork'),
});

/** Items that failed on every attempt: counted as failed in their run. */
app.storageQueue('recordingPurgePoison', {
  queueName: poisonQueueOf(WORK_QUEUES.recordingPurge),
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'recordingPurgePoison'),
});
