import { app } from '@azure/functions';
import { services } from '../shared/services.js';

/**
 * Deletes expired recordings (and rejected landing files) in every geography, each run bounded by
 * RECORDING_PURGE_MAX_ITEMS and RECORDING_PURGE_MAX_SECONDS. Every 15 minutes unless
 * RECORDING_PURGE_SCHEDULE (six-field NCRONTAB) says otherwise.
 */
app.timer('recordingPurge', {
  schedule: process.env.RECORDING_PURGE_SCHEDULE || '0 */15 * * * *',
  handler: async (_timer, context) => {
    const svc = services();
    for (const geo of svc.stores.all()) {
      try {
        const summary = await svc.recordings.purger.run(geo, {
          maxItems: svc.settings.recordingPurgeMaxItems,
          maxDurationMs: svc.settings.recordingPurgeMaxSeconds * 1000,
        });
        if (summary.examined === 0) continue;
        const level = summary.errors > 0 || summary.stoppedAtBudget ? 'warn' : 'info';
        svc.logger.log(level, 'recording.purge_run', {
          correlationId: context.invocationId,
          geography: geo.geography.key,
          count: summary.recordingsDeleted + summary.landingFilesDeleted,
          durationMs: summary.durationMs,
          detail: `examined ${summary.examined}, recordings ${summary.recordingsDeleted}, landing files ${summary.landingFilesDeleted}, errors ${summary.errors}${summary.stoppedAtBudget ? ', stopped at budget' : ''}`,
        });
      } catch (error) {
        svc.logger.error('recording.purge_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
      }
    }
  },
});
