import type { Services } from '../services.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import { purgeExpiredEmailData } from '../email/email-retention.js';
import { addTotals, emptyTotals, type PurgeRunRecord, type PurgeTotals } from './purge-runs.js';

/**
 * One timer run of a purge over every geography, recorded as one run: each geography within the
 * run's item budget, all within its time budget, a failing geography logged and counted without
 * stopping the others.
 */
type PurgeServices = Pick<Services, 'stores' | 'registry' | 'recordings' | 'retention' | 'settings' | 'logger' | 'oplogs' | 'privacy' | 'clock'>;

export function runRecordingPurge(svc: PurgeServices): Promise<PurgeRunRecord> {
  return svc.retention.runs.record('recordingPurge', async () => {
    const budget = { maxItems: svc.settings.recordingPurgeMaxItems, maxDurationMs: svc.settings.recordingPurgeMaxSeconds * 1000 };
    return eachGeography(svc, 'recording.purge', (geo) => svc.recordings.purger.run(geo, budget));
  });
}

export function runChatRetention(svc: PurgeServices): Promise<PurgeRunRecord> {
  return svc.retention.runs.record('chatRetention', async () => {
    const deadline = Date.now() + svc.settings.retentionPurgeMaxSeconds * 1000;
    const resources = (await svc.registry.list()).filter((r) => r.state === 'active');
    return eachGeography(svc, 'retention.purge', async (geo) => {
      const totals = emptyTotals();
      for (const resource of resources.filter((r) => r.geographyKey === geo.geography.key)) {
        const maxItems = svc.settings.retentionPurgeMaxItems - totals.examined;
        if (maxItems <= 0 || Date.now() >= deadline) {
          totals.stoppedAtBudget = true;
          break;
        }
        addTotals(totals, await svc.retention.threads.run(geo, resource, { maxItems, deadline }));
        addTotals(totals, await purgeOperationLogs(svc, geo, resource, svc.settings.retentionPurgeMaxItems - totals.examined));
        addTotals(totals, await purgeExpiredEmailData(geo, resource.id, svc.clock.now(), svc.settings.retentionPurgeMaxItems - totals.examined));
      }
      const expired = await svc.privacy.purgeExpired(geo, { maxItems: Math.max(0, svc.settings.retentionPurgeMaxItems - totals.examined) });
      const deleted = Object.fromEntries(Object.entries({ privacyRequests: expired.requests, privacyResults: expired.results }).filter(([, n]) => n > 0));
      addTotals(totals, { ...emptyTotals(), examined: expired.requests, deleted, stoppedAtBudget: expired.more });
      return totals;
    });
  });
}

/** Operation log records older than the resource's `logDays`, except those naming an identity under legal hold. */
async function purgeOperationLogs(svc: PurgeServices, geo: GeoStore, resource: Resource, maxItems: number): Promise<PurgeTotals> {
  const totals = emptyTotals();
  if (maxItems <= 0) return { ...totals, stoppedAtBudget: true };
  const before = new Date(svc.clock.now().getTime() - effectiveRetention(resource.retention).logDays * 86_400_000);
  const holds = await svc.retention.holds.active(resource);
  const { deleted, more } = await svc.oplogs.purgeOlderThan(geo, resource.id, before, { heldIdentities: [...holds.identities.keys()], maxItems });
  return { ...totals, examined: deleted, deleted: deleted > 0 ? { operationLogs: deleted } : {}, stoppedAtBudget: more };
}

async function eachGeography(svc: PurgeServices, event: string, work: (geo: GeoStore) => Promise<PurgeTotals>): Promise<PurgeTotals> {
  const totals = emptyTotals();
  for (const geo of svc.stores.all()) {
    try {
      const result = await work(geo);
      addTotals(totals, result);
      if (result.examined > 0 || result.skippedForHold.length > 0) {
        svc.logger.log(result.errors > 0 || result.stoppedAtBudget ? 'warn' : 'info', `${event}_geography`, {
          geography: geo.geography.key,
          count: Object.values(result.deleted).reduce((a, b) => a + b, 0),
          detail: `examined ${result.examined}, deleted ${JSON.stringify(result.deleted)}, held ${result.skippedForHold.length}, errors ${result.errors}${result.stoppedAtBudget ? ', stopped at budget' : ''}`,
        });
      }
    } catch (error) {
      totals.errors += 1;
      svc.logger.error(`${event}_failed`, { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return totals;
}
