import type { Services } from '../services.js';
import { geographyByKey } from '../geography/geographies.js';
import type { OutboxItem } from '../queues/work-items.js';
import { WORK_QUEUES } from '../queues/work-queues.js';
import type { GeoStore } from '../stores/geo-store.js';
import { homeOf, queryEntries, type EntryRef } from './entry-home.js';
import { OUTBOX_IN_FLIGHT_GRACE_MS, type OutboxEntry } from './outbox.js';

export interface RepublishPlan {
  planned: number;
  pruned: number;
  failed: number;
}

type RepublishServices = Pick<Services, 'stores' | 'outboxFor' | 'clock' | 'settings' | 'logger' | 'workQueues'>;

/** How long a planned entry is left to its work item before the planner enqueues it again. */
export const REPUBLISH_CLAIM_MS = 5 * 60_000;

/**
 * The planner (the `outboxRepublish` timer): in every geography, the entries left unfinished and
 * due (pending ones only after the grace their committer has), each claimed by moving its next
 * attempt REPUBLISH_CLAIM_MS on (so the next planner run leaves it to its work item) and enqueued as
 * one work item; published entries past OUTBOX_RETENTION_HOURS are pruned. Errors stay per geography.
 */
export async function planOutboxRepublish(svc: RepublishServices, options: { graceMs?: number; maxEntries?: number } = {}): Promise<RepublishPlan> {
  const summary: RepublishPlan = { planned: 0, pruned: 0, failed: 0 };
  const retentionMs = svc.settings.outboxRetentionHours * 3_600_000;
  for (const geo of svc.stores.all()) {
    try {
      const due = await claimDue(svc, geo, options.graceMs ?? OUTBOX_IN_FLIGHT_GRACE_MS, options.maxEntries ?? 500);
      const items: OutboxItem[] = due.map((entry) => ({
        v: 1,
        kind: 'outboxEntry',
        geography: geo.geography.key,
        resourceId: entry.resourceId,
        entryId: entry.id,
        ...(entry.threadId !== undefined ? { threadId: entry.threadId } : {}),
      }));
      summary.planned += await svc.workQueues.sendAll(WORK_QUEUES.outboxRepublish, items);
      summary.pruned += await svc.outboxFor(geo).prunePublished(new Date(svc.clock.now().getTime() - retentionMs), 500);
    } catch (error) {
      summary.failed += 1;
      svc.logger.error('outbox.republish_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return summary;
}

/** One work item: finishes the entry (re-applies what is missing, publishes with the same event ids). A failed attempt backs off in the entry itself. */
export async function workOutboxItem(svc: Pick<Services, 'stores' | 'registry' | 'outboxFor'>, item: OutboxItem): Promise<boolean> {
  const resource = await svc.registry.getById(item.resourceId);
  const geo = resource ? svc.stores.forResource(resource) : svc.stores.forGeography(geographyByKey(item.geography));
  return svc.outboxFor(geo).republish({ id: item.entryId, resourceId: item.resourceId, ...(item.threadId !== undefined ? { threadId: item.threadId } : {}) });
}

/** Due entries in both homes (entry-home.ts), `max` of each at most. */
async function claimDue(svc: RepublishServices, geo: GeoStore, graceMs: number, max: number): Promise<EntryRef[]> {
  const now = svc.clock.now();
  const resources = await queryEntries<Pick<OutboxEntry, 'status' | 'createdAt'>>(geo, {
    select: 'c.status, c.createdAt',
    where: 'c.status != "published" AND c.nextAttemptAt <= @now',
    orderBy: 'c.nextAttemptAt',
    top: max,
    parameters: [{ name: '@now', value: now.toISOString() }],
  });
  const due = resources.filter((entry) => entry.status !== 'pending' || now.getTime() - Date.parse(entry.createdAt) >= graceMs);
  const claimedUntil = new Date(now.getTime() + REPUBLISH_CLAIM_MS).toISOString();
  const claimed: EntryRef[] = [];
  for (const { status: _status, createdAt: _createdAt, ...entry } of due) {
    const home = homeOf(entry);
    try {
      await (await geo.existingContainer(home.container)).item(entry.id, home.partitionKey).patch([{ op: 'set', path: '/nextAttemptAt', value: claimedUntil }]);
      claimed.push(entry);
    } catch (error) {
      // Published and pruned meanwhile (or, in a thread's partition, deleted once published).
      if ((error as { code?: number }).code !== 404) throw error;
    }
  }
  return claimed;
}
