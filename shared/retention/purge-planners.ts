import type { Services } from '../services.js';
import type { GeoStore } from '../stores/geo-store.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import type { ChatRetentionItem, RecordingPurgeItem } from '../queues/work-items.js';
import { WORK_QUEUES } from '../queues/work-queues.js';
import type { PurgeRunRecord } from './purge-run-record.js';
import type { PurgeKind } from './purge-schedules.js';
import { expiryOf } from './thread-retention.js';

/**
 * The purge timers plan; the queue functions work (purge-workers.ts). A planner starts a run, pages
 * through everything due in every geography with the same indexed queries as before (no item
 * budget: a backlog is planned whole and drains at the rate the instances give), records what holds
 * keep, enqueues one work item per thread or recording, and ends its planning. A geography that
 * fails is logged and fails the run; the others are still planned.
 */
export type PlannerServices = Pick<Services, 'stores' | 'registry' | 'recordings' | 'retention' | 'logger' | 'clock' | 'workQueues'>;

/** Threads or recordings read and enqueued per page. */
export const PLAN_PAGE_SIZE = 500;

export function planChatRetention(svc: PlannerServices): Promise<PurgeRunRecord | undefined> {
  return plan(svc, 'chatRetention', async (run, geo) => {
    const resources = (await svc.registry.list()).filter((r) => r.state === 'active' && r.geographyKey === geo.geography.key);
    const base = { v: 1 as const, runId: run.id, geography: geo.geography.key };
    let planned = 0;
    for (const resource of resources) {
      const held = await svc.retention.threads.heldThreads(geo, resource);
      await svc.retention.runs.addPlanned(run, 0, await svc.retention.threads.heldDue(geo, resource, held));
      for await (const page of svc.retention.threads.duePages(geo, resource, PLAN_PAGE_SIZE, held)) {
        const items: ChatRetentionItem[] = page.map((due) => ({ ...base, kind: 'chatThread', resourceId: resource.id, threadId: due.threadId, reason: due.reason, expiry: expiryOf(due) }));
        planned += await enqueue(svc, run, WORK_QUEUES.chatRetention, items);
      }
      const before = new Date(svc.clock.now().getTime() - effectiveRetention(resource.retention).logDays * 86_400_000).toISOString();
      planned += await enqueue(svc, run, WORK_QUEUES.chatRetention, [{ ...base, kind: 'operationLogs', resourceId: resource.id, before }]);
    }
    planned += await enqueue(svc, run, WORK_QUEUES.chatRetention, [{ ...base, kind: 'privacyResults' }]);
    return planned;
  });
}

export function planRecordingPurge(svc: PlannerServices): Promise<PurgeRunRecord | undefined> {
  return plan(svc, 'recordingPurge', async (run, geo) => {
    const now = svc.clock.now();
    const base = { v: 1 as const, runId: run.id, geography: geo.geography.key };
    let planned = 0;
    for await (const page of svc.recordings.purger.expiredPages(geo, now, PLAN_PAGE_SIZE)) {
      const items: RecordingPurgeItem[] = page.map((blob) => ({ ...base, kind: 'recording', ...blob }));
      planned += await enqueue(svc, run, WORK_QUEUES.recordingPurge, items);
    }
    if (await svc.recordings.purger.hasExpiredLandingFiles(geo, now)) {
      planned += await enqueue(svc, run, WORK_QUEUES.recordingPurge, [{ ...base, kind: 'landingFiles', at: now.toISOString() }]);
    }
    return planned;
  });
}

async function enqueue(svc: PlannerServices, run: PurgeRunRecord, queue: (typeof WORK_QUEUES)[keyof typeof WORK_QUEUES], items: object[]): Promise<number> {
  if (items.length === 0) return 0;
  await svc.workQueues.sendAll(queue, items);
  await svc.retention.runs.addPlanned(run, items.length);
  return items.length;
}

async function plan(svc: PlannerServices, kind: PurgeKind, perGeography: (run: PurgeRunRecord, geo: GeoStore) => Promise<number>): Promise<PurgeRunRecord | undefined> {
  const begun = await svc.retention.runs.begin(kind);
  if ('draining' in begun) {
    const { draining } = begun;
    svc.logger.info(`${kind}.previous_run_draining`, { count: draining.planned - draining.settled, detail: `run ${draining.id} started ${draining.startedAt}; nothing planned this time` });
    return undefined;
  }
  const { run } = begun;
  const failures: string[] = [];
  for (const geo of svc.stores.all()) {
    try {
      const planned = await perGeography(run, geo);
      if (planned > 0) svc.logger.info(`${kind}.planned`, { geography: geo.geography.key, count: planned });
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      failures.push(`${geo.geography.key}: ${detail.slice(0, 120)}`);
      svc.logger.error(`${kind}.planning_failed`, { geography: geo.geography.key, detail });
    }
  }
  return svc.retention.runs.finishPlanning(run, failures.length > 0 ? `Planning failed in ${failures.join('; ')}` : undefined);
}
