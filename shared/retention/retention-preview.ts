import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import type { Services } from '../services.js';
import { PLAN_PAGE_SIZE } from './purge-planners.js';
import type { DueThread } from './thread-retention.js';

/** How many due threads the preview lists (it counts them all). */
export const PREVIEW_LISTED = 1000;

/**
 * What the next chat retention run would delete for a resource, and what legal holds keep, without
 * deleting anything: the planner's own queries, paged through to the end as the planner pages (a
 * run has no item budget: it plans everything due and the work items drain it). Lists the first
 * PREVIEW_LISTED (`listedMax`) due threads and counts them all.
 */
export async function retentionPreview(svc: Pick<Services, 'stores' | 'retention' | 'clock'>, resource: Resource, listedMax = PREVIEW_LISTED): Promise<Record<string, unknown>> {
  const geo = svc.stores.forResource(resource);
  const held = await svc.retention.threads.heldThreads(geo, resource);
  const listed: DueThread[] = [];
  const counts = { idle: 0, retentionPolicy: 0 };
  for await (const page of svc.retention.threads.duePages(geo, resource, PLAN_PAGE_SIZE, held)) {
    for (const due of page) counts[due.reason] += 1;
    listed.push(...page.slice(0, listedMax - listed.length));
  }
  const count = counts.idle + counts.retentionPolicy;
  const kept = await svc.retention.threads.heldDue(geo, resource, held);
  return {
    resourceId: resource.id,
    at: svc.clock.now().toISOString(),
    retention: effectiveRetention(resource.retention),
    chatThreads: {
      count,
      idle: counts.idle,
      retentionPolicy: counts.retentionPolicy,
      // The next run plans every one of them (one work item each); `due` lists the first PREVIEW_LISTED.
      due: listed,
      listedAll: listed.length === count,
    },
    keptForLegalHold: { count: kept.length, items: kept },
  };
}
