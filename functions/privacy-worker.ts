import { app } from '@azure/functions';
import { planPrivacyRequests, privacyWorkerSchedule, recordPoisonedPrivacyItem, workPrivacyItem } from '../shared/privacy/privacy-worker.js';
import { privacyItemSchema } from '../shared/queues/work-items.js';
import { poisonHandler, workHandler } from '../shared/queues/work-handler.js';
import { poisonQueueOf, WORK_QUEUES } from '../shared/queues/work-queues.js';
import { services } from '../shared/services.js';

/**
 * The planner of data subject requests: picks up new requests and those whose lease ran out (a
 * worker died, a slice failed), claims each and enqueues a work item. Every 10 seconds unless
 * PRIVACY_WORKER_SCHEDULE says otherwise.
 */
app.timer('privacyWorker', {
  schedule: privacyWorkerSchedule(),
  handler: async () => {
    await planPrivacyRequests(services());
  },
});

/** The workers, on every instance: a slice of a request from its checkpoint, then the next slice is enqueued. */
app.storageQueue('privacyWork', {
  queueName: WORK_QUEUES.privacyRequests,
  connection: 'AzureWebJobsStorage',
  handler: workHandler('privacy', privacyItemSchema, () => services().logger, (item) => workPrivacyItem(services(), item)),
});

app.storageQueue('privacyPoison', {
  queueName: poisonQueueOf(WORK_QUEUES.privacyRequests),
  connection: 'AzureWebJobsStorage',
  handler: poisonHandler('privacy', privacyItemSchema, () => services().logger, (item) => recordPoisonedPrivacyItem(services(), item)),
});
