import { app } from '@azure/functions';
import { chatRetentionItemSchema } from '../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../shared/queues/work-handler.js';
import { poisonQueueOf, WORK_QUEUES } from '../shared/queues/work-queues.js';
import { planChatRetention } from '../shared/retention/purge-planners.js';
import { purgeSchedule } from '../shared/retention/purge-schedules.js';
import { recordPoisonedItem, workChatRetentionItem } from '../shared/retention/purge-workers.js';
import { services } from '../shared/services.js';

/**
 * The planner: finds the chat threads that were idle for their resource's period or are past their
 * own retention policy, in every geography, skipping legal holds, and enqueues one work item per
 * thread (plus one per resource for old operation logs, one per geography for finished privacy
 * requests), recorded as one run. Hourly unless RETENTION_PURGE_SCHEDULE says otherwise.
 */
app.timer('chatRetentionPurge', {
  schedule: purgeSchedule('chatRetention'),
  handler: async () => {
    await planChatRetention(services());
  },
});

/** The workers, on every instance: one item each, counted into its run once. */
app.storageQueue('chatRetentionWork', {
  queueName: WORK_QUEUES.chatRetention,
  connection: 'AzureWebJobsStorage',
  handler: workHandler('retention', chatRetentionItemSchema, () => services().logger, (item) => workChatRetentionItem(services(), item)),
});

/** Items that failed on every attempt: counted as failed in their run. */
app.storageQueue('chatRetentionPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.chatRetention),
  connection: 'AzureWebJobsStorage',
  handler: poisonHandler('retention', chatRetentionItemSchema, () => services().logger, (item) => recordPoisonedItem(services(), 'chatRetention', item)),
});
