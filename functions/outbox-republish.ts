import { app } from '@azure/functions';
import { outboxRepublishSchedule, planOutboxRepublish, workOutboxItem } from '../shared/events/outbox-republisher.js';
import { outboxItemSchema } from '../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../shared/queues/work-handler.js';
import { poisonQueueOf, WORK_QUEUES } from '../shared/queues/work-queues.js';
import { services } from '../shared/services.js';

/** Every 30 seconds (OUTBOX_REPUBLISH_SCHEDULE): plans the outbox entries of all geographies left unfinished, one work item each, and prunes published ones. */
app.timer('outboxRepublish', {
  schedule: outboxRepublishSchedule(),
  handler: async (_timer, context) => {
    const svc = services();
    const plan = await planOutboxRepublish(svc);
    if (plan.planned + plan.pruned > 0) svc.logger.info('outbox.republish_planned', { correlationId: context.invocationId, count: plan.planned, detail: `pruned ${plan.pruned}` });
  },
});

/** The workers: finish one entry each (a failed publish backs off in the entry; the planner enqueues it again when it is due). */
app.storageQueue('outboxRepublishWork', {
  queueName: WORK_QUEUES.outboxRepublish,
  connection: 'AzureWebJobsStorage',
  handler: workHandler('outbox', outboxItemSchema, () => services().logger, (item) => workOutboxItem(services(), item)),
});

app.storageQueue('outboxRepublishPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.outboxRepublish),
  connection: 'AzureWebJobsStorage',
  handler: poisonHandler('outbox', outboxItemSchema, () => services().logger, (item) => {
    services().logger.error('outbox.work_item_poisoned', { resourceId: item.resourceId, geography: item.geography, detail: `entry ${item.entryId}: the planner enqueues it again when its claim runs out` });
  }),
});
