import type { Services } from '../services.js';
import type { WorkerTotals } from './privacy-service.js';

/** The privacy worker timer's schedule (six-field NCRONTAB): every 10 seconds unless PRIVACY_WORKER_SCHEDULE says otherwise. */
export function privacyWorkerSchedule(env: Record<string, string | undefined> = process.env): string {
  return env.PRIVACY_WORKER_SCHEDULE || '*/10 * * * * *';
}

/**
 * One worker run: every geography's waiting or interrupted requests, within PRIVACY_WORKER_MAX_SECONDS.
 * A failing geography is logged and the others still run.
 */
export async function runPrivacyWorker(svc: Pick<Services, 'stores' | 'privacy' | 'settings' | 'logger'>): Promise<WorkerTotals> {
  const deadline = Date.now() + svc.settings.privacyWorkerMaxSeconds * 1000;
  const totals: WorkerTotals = { requests: 0, finished: 0, failed: 0, waiting: 0 };
  for (const geo of svc.stores.all()) {
    try {
      const result = await svc.privacy.work(geo, deadline);
      for (const key of Object.keys(totals) as (keyof WorkerTotals)[]) totals[key] += result[key];
      if (result.requests > 0) {
        svc.logger.info('privacy.worker_geography', {
          geography: geo.geography.key,
          count: result.requests,
          detail: `finished ${result.finished}, failed ${result.failed}, waiting ${result.waiting}`,
        });
      }
    } catch (error) {
      svc.logger.error('privacy.worker_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return totals;
}
