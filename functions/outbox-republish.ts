import { app } from '@azure/functions';
import { scheduleReference } from '../shared/timer-schedules.js';
import { WORK_QUEUES, poisonQueueOf } from '../shared/queues/work-queues.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/outbox-republish.ts). */
const handlers = () => import('./handlers/outbox-republish.js');

/** Every 30 seconds (OUTBOX_REPUBLISH_SCHEDULE): plans the outbox entries of all geographies left unfinished, one work item each, and prunes published ones. */
app.timer('outboxRepublish', {
  schedule: scheduleReference('outboxRepublish'),
  handler: lazyHandler(handlers, 'outboxRepublish'),
});

/** The workers: finish one entry each (a failed publish backs off in the entry; the planner enqueues it again when it is due). */
app.storageQueue('outboxRepublishWork', {
  queueName: WORK_QUEUES.outboxRepublish,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'outboxRepublishWork'),
});

app.storageQueue('outboxRepublishPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.outboxRepublish),
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'outboxRepublishPoison'),
});
