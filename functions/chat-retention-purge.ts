import { app } from '@azure/functions';
import { purgeSchedule } from '../shared/retention/purge-schedules.js';
import { runChatRetention } from '../shared/retention/purge-timers.js';
import { services } from '../shared/services.js';

/**
 * Deletes chat threads that were idle for their resource's period or are past their own retention
 * policy, in every geography, skipping legal holds; bounded by RETENTION_PURGE_MAX_ITEMS (per
 * geography) and RETENTION_PURGE_MAX_SECONDS, and recorded. Hourly unless RETENTION_PURGE_SCHEDULE says otherwise.
 */
app.timer('chatRetentionPurge', {
  schedule: purgeSchedule('chatRetention'),
  handler: async () => {
    await runChatRetention(services());
  },
});
