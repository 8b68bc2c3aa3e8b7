import { app } from '@azure/functions';
import { purgeSchedule } from '../shared/retention/purge-schedules.js';
import { runRecordingPurge } from '../shared/retention/purge-timers.js';
import { services } from '../shared/services.js';

/**
 * Deletes expired recordings (and rejected landing files) in every geography, each run bounded by
 * RECORDING_PURGE_MAX_ITEMS and RECORDING_PURGE_MAX_SECONDS and recorded (management API, purge runs).
 * Every 15 minutes unless RECORDING_PURGE_SCHEDULE (six-field NCRONTAB) says otherwise.
 */
app.timer('recordingPurge', {
  schedule: purgeSchedule('recordingPurge'),
  handler: async () => {
    await runRecordingPurge(services());
  },
});
