import { purgeExpiredEmailData } from '../email/email-retention.js';
import { stableId } from '../events/event-record.js';
import { geographyByKey } from '../geography/geographies.js';
import type { ChatRetentionItem, RecordingPurgeItem } from '../queues/work-items.js';
import type { Resource } from '../resources/resource.js';
import type { Services } from '../services.js';
import type { ItemOutcome } from './purge-run-record.js';
import type { PurgeKind } from './purge-schedules.js';

/**
 * The purge work items, done on whichever instance the queue hands them to, each counted once into
 * its run. A failure is thrown: the host retries the item and, after maxDequeueCount attempts, moves
 * it to the poison queue, where `recordPoisonedItem` counts it as failed. Resource items use the
 * resource's own geography (from the registry), never the one the item names.
 */
export type WorkerServices = Pick<Services, 'stores' | 'registry' | 'recordings' | 'retention' | 'oplogs' | 'privacy' | 'clock' | 'logger'>;

/** Operation log records and finished privacy requests deleted per query. */
const DELETE_PAGE = 500;

/**
 * The items of one run on one instance share a resource's record for a few seconds (its lookup by id
 * is a cross-partition query): a resource deleted meanwhile has its data deleted with it anyway.
 */
const resourceOf = (svc: WorkerServices, item: { runId: string; resourceId: string }) => svc.retention.resources.get(item.runId, item.resourceId, () => svc.registry.getById(item.resourceId));

export async function workChatRetentionItem(svc: WorkerServices, item: ChatRetentionItem): Promise<ItemOutcome> {
  let outcome: ItemOutcome;
  if (item.kind === 'privacyResults') {
    outcome = await purgeFinishedPrivacyRequests(svc, item.geography);
  } else {
    const resource = await resourceOf(svc, item).then((r) => (r?.state === 'active' ? r : undefined));
    if (!resource) outcome = { result: 'done' };
    else if (item.kind === 'chatThread') outcome = await svc.retention.threads.purgeOne(svc.stores.forResource(resource), resource, item);
    else outcome = await purgeOperationLogs(svc, resource, new Date(item.before));
  }
  await svc.retention.runs.settle('chatRetention', item.runId, itemKey(item), outcome);
  return outcome;
}

export async function workRecordingPurgeItem(svc: WorkerServices, item: RecordingPurgeItem): Promise<ItemOutcome> {
  let outcome: ItemOutcome;
  const now = svc.clock.now();
  if (item.kind === 'landingFiles') {
    const count = await svc.recordings.purger.purgeLandingFiles(svc.stores.forGeography(geographyByKey(item.geography)), now);
    outcome = { result: 'done', deleted: { landingFiles: count } };
  } else {
    // A deleted resource's blobs went with it; a blob named after an unknown resource is still purged where it lies.
    const resource = await resourceOf(svc, item);
    const geo = resource ? svc.stores.forResource(resource) : svc.stores.forGeography(geographyByKey(item.geography));
    const result = await svc.recordings.purger.purgeOne(geo, item.resourceId, item.recordingId, now);
    outcome = result === 'deleted' ? { result: 'done', deleted: { recordings: 1 } } : { result: 'held', held: result };
  }
  await svc.retention.runs.settle('recordingPurge', item.runId, itemKey(item), outcome);
  return outcome;
}

/** A purge work item that went to the poison queue: counted as failed in its run, and logged. */
export async function recordPoisonedItem(svc: WorkerServices, kind: PurgeKind, item: ChatRetentionItem | RecordingPurgeItem): Promise<void> {
  const counted = await svc.retention.runs.settle(kind, item.runId, itemKey(item), { result: 'failed' });
  svc.logger.error('purge.work_item_poisoned', {
    geography: item.geography,
    ...('resourceId' in item ? { resourceId: item.resourceId } : {}),
    code: item.kind,
    detail: `run ${item.runId}: the work item failed on every attempt${counted ? '' : ' (it had settled before)'}`,
  });
}

/** The item's key within its run (hashed: the marker in the control plane names no thread or recording). */
function itemKey(item: ChatRetentionItem | RecordingPurgeItem): string {
  const parts: string[] =
    item.kind === 'chatThread' ? [item.resourceId, item.threadId] : item.kind === 'recording' ? [item.resourceId, item.recordingId] : item.kind === 'operationLogs' ? [item.resourceId] : [item.geography];
  return stableId(item.kind, ...parts);
}

/** Operation log records older than `before`, except those naming an identity under legal hold, all of them; and the resource's expired e-mail data. */
async function purgeOperationLogs(svc: WorkerServices, resource: Resource, before: Date): Promise<ItemOutcome> {
  const geo = svc.stores.forResource(resource);
  const holds = await svc.retention.holds.active(resource);
  let total = 0;
  for (;;) {
    const { deleted, more } = await svc.oplogs.purgeOlderThan(geo, resource.id, before, { heldIdentities: [...holds.identities.keys()], maxItems: DELETE_PAGE });
    total += deleted;
    if (!more) break;
  }
  // The resource's expired e-mail data goes with its log records (one work item per resource).
  const email: Record<string, number> = {};
  for (;;) {
    const page = await purgeExpiredEmailData(geo, resource.id, svc.clock.now(), DELETE_PAGE);
    for (const [kind, count] of Object.entries(page.deleted)) email[kind] = (email[kind] ?? 0) + count;
    if (!page.more) break;
  }
  return { result: 'done', deleted: { operationLogs: total, ...email } };
}

async function purgeFinishedPrivacyRequests(svc: WorkerServices, geography: string): Promise<ItemOutcome> {
  const geo = svc.stores.forGeography(geographyByKey(geography));
  const deleted = { privacyRequests: 0, privacyResults: 0 };
  for (;;) {
    const page = await svc.privacy.purgeExpired(geo, { maxItems: DELETE_PAGE });
    deleted.privacyRequests += page.requests;
    deleted.privacyResults += page.results;
    if (!page.more) break;
  }
  return { result: 'done', deleted };
}
