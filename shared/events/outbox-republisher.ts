import type { Services } from '../services.js';
import { OUTBOX_IN_FLIGHT_GRACE_MS } from './outbox.js';

/** When the republisher runs: OUTBOX_REPUBLISH_SCHEDULE (NCRONTAB), every 30 seconds by default. */
export function outboxRepublishSchedule(env: Record<string, string | undefined> = process.env): string {
  return env.OUTBOX_REPUBLISH_SCHEDULE || '*/30 * * * * *';
}

export interface RepublishSummary {
  examined: number;
  published: number;
  failed: number;
  pruned: number;
}

/** One republisher run over every geography: bounded work per geography, errors kept per geography. */
export async function republishOutboxes(
  svc: Pick<Services, 'stores' | 'outboxFor' | 'clock' | 'settings' | 'logger'>,
  options: { graceMs?: number; maxEntries?: number } = {},
): Promise<RepublishSummary> {
  const summary: RepublishSummary = { examined: 0, published: 0, failed: 0, pruned: 0 };
  const retentionMs = svc.settings.outboxRetentionHours * 3_600_000;
  for (const geo of svc.stores.all()) {
    try {
      const outbox = svc.outboxFor(geo);
      const result = await outbox.drain({ graceMs: options.graceMs ?? OUTBOX_IN_FLIGHT_GRACE_MS, maxEntries: options.maxEntries ?? 500 });
      summary.examined += result.examined;
      summary.published += result.published;
      summary.failed += result.failed;
      summary.pruned += await outbox.prunePublished(new Date(svc.clock.now().getTime() - retentionMs), 500);
    } catch (error) {
      summary.failed += 1;
      svc.logger.error('outbox.republish_failed', {
        geography: geo.geography.key,
        detail: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return summary;
}
