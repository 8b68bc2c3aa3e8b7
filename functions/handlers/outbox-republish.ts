import type { StorageQueueHandler, TimerHandler } from '@azure/functions';
import { planOutboxRepublish, workOutboxItem } from '../../shared/events/outbox-republisher.js';
import { outboxItemSchema } from '../../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../../shared/queues/work-handler.js';
import { services } from '../../shared/services.js';

export const outboxRepublish: TimerHandler = async (_timer, context) => {
  const svc = services();
  const plan = await planOutboxRepublish(svc);
  if (plan.planned + plan.pruned > 0) svc.logger.info('outbox.republish_planned', { correlationId: context.invocationId, count: plan.planned, detail: `pruned ${plan.pruned}` });
};

export const outboxRepublishWork: StorageQueueHandler = workHandler('outbox', outboxItemSchema, () => services().logger, (item) => workOutboxItem(services(), item));

export const outboxRepublishPoison: StorageQueueHandler = poisonHandler('outbox', outboxItemSchema, () => services().logger, (item) => {
  services().logger.error('outbox.work_item_poisoned', { resourceId: item.resourceId, geography: item.geography, detail: `entry ${item.entryId}: the planner enqueues it again when its claim runs out` });
});
