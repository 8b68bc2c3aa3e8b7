import { app } from '@azure/functions';
import { privacyWorkerSchedule, runPrivacyWorker } from '../shared/privacy/privacy-worker.js';
import { services } from '../shared/services.js';

/**
 * Works on data subject requests in the background: picks up new requests and those a crashed or
 * timed-out worker left (their lease ran out), and continues each from its checkpoint.
 */
app.timer('privacyWorker', {
  schedule: privacyWorkerSchedule(),
  handler: async () => {
    await runPrivacyWorker(services());
  },
});
