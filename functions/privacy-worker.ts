import { app } from '@azure/functions';
import { scheduleReference } from '../shared/timer-schedules.js';
import { WORK_QUEUES, poisonQueueOf } from '../shared/queues/work-queues.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/privacy-worker.ts). */
const handlers = () => import('./handlers/privacy-worker.js');

/**
 * The planner of data subject requests: picks up new requests and those whose lease ran out (a
 * worker died, a slice failed), claims each and enqueues a work item. Every 10 seconds unless
 * PRIVACY_WORKER_SCHEDULE says otherwise.
 */
app.timer('privacyWorker', {
  schedule: scheduleReference('privacyWorker'),
  handler: lazyHandler(handlers, 'privacyWorker'),
});

/** The workers, on every instance: a slice of a request from its checkpoint, then the next slice is enqueued. */
app.storageQueue('privacyWork', {
  queueName: WORK_QUEUES.privacyRequests,
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'privacyWork'),
});

app.storageQueue('privacyPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.privacyRequests),
  connection: 'AzureWebJobsStorage',
  handler: lazyHandler(handlers, 'privacyPoison'),
});
