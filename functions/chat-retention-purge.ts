import { app } from '@azure/functions';
import { WORK_QUEUES, poisonQueueOf } from '../shared/queues/work-queues.js';
import { scheduleReference } from '../shared/timer-schedules.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/chat-retention-purge.ts). */
const handlers = () => import('./handlers/chat-retention-purge.js');

/**
 * The planner: finds the chat threads that were idle for their resource's period or are past their
 * own retention policy, in every geography, skipping legal holds, and enqueues one work item per
 * thread (plus one per resource for old operation logs, one per geography for finished privacy
 * requests), recorded as one run. Hourly unless RETENTION_PURGE_SCHEDULE says otherwise.
 */
app.timer('chatRetentionPurge', {
  schedule: scheduleReference('chatRetention'),
  handler: lazyHandler(handlers, 'chatRetentionPurge'),
});

/** The workers, on every instance: one item each, counted into its run once. */
app.storageQueue('chatRetentionWork', {
  queueName: WORK_QUEUES.chatRetention,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'chatRetentionWork'),
});

/** Items that failed on every attempt: counted as failed in their run. */
app.storageQueue('chatRetentionPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.chatRetention),
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'chatRetentionPoison'),
});
