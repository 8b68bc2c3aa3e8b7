import type { Clock } from '../clock.js';
import type { ChatThreadPurger } from '../chat/chat-thread-purger.js';
import { ChatStore } from '../chat/chat-store.js';
import type { ThreadRecord } from '../chat/chat-records.js';
import { auditOp, auditRecord } from '../audit/audit-record.js';
import { stableId } from '../events/event-record.js';
import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { ActiveHolds, LegalHolds } from './legal-holds.js';
import type { HeldItem, ItemOutcome } from './purge-run-record.js';
import { RunScopedCache } from './run-scoped-cache.js';

/**
 * Chat thread retention: a thread goes when it has been idle for the resource's `idleThreadDays`
 * (no message, edit, participant or property change: `lastActivityAt`) or when its own retention
 * policy says so (`policyExpiresAt`, creation + deleteThreadAfterDays). Expired threads are found per
 * resource with queries on those fields (composite indexes on kind, resourceId and the field), so the
 * cost grows with what expired, not with what is stored. Held threads, and threads a held identity
 * takes or took part in, are left and reported.
 *
 * The planner pages through everything due (`duePages`) and enqueues one work item per thread; a
 * worker deletes one (`purgeOne`). The preview pages through the same; `plan` gives the first `limit`.
 */
export type ThreadExpiryReason = 'idle' | 'retentionPolicy';

export interface DueThread {
  threadId: string;
  reason: ThreadExpiryReason;
  lastActivityAt: string;
  policyExpiresAt?: string | null;
}

export interface ThreadRetentionPlan {
  resourceId: string;
  due: DueThread[];
  held: HeldItem[];
}

interface ThreadRow {
  threadId: string;
  lastActivityAt: string;
  policyExpiresAt?: string | null;
}

/** What a work item names: the thread, why it expired, and the expiry time the plan saw. */
export interface ThreadWork {
  threadId: string;
  reason: ThreadExpiryReason;
  expiry: string;
  /** The run it belongs to: the items of one run on one instance share the resource's holds for HOLDS_REUSE_MS. */
  runId?: string;
}

/**
 * How long the items of one run on one instance reuse a resource's holds (one query less per
 * thread): a hold placed while a run drains keeps every thread whose item starts this long after it.
 */
export const HOLDS_REUSE_MS = 5_000;

export interface ThreadRetentionDeps {
  holds: LegalHolds;
  purger: ChatThreadPurger;
  clock: Clock;
}

/** The time a due thread expired by: what a work item carries and the worker checks again. */
export const expiryOf = (due: Pick<DueThread, 'reason' | 'lastActivityAt' | 'policyExpiresAt'>) => (due.reason === 'idle' ? due.lastActivityAt : (due.policyExpiresAt ?? ''));

/** The change id of a thread's purge: the same for every delivery of its work item, so no event gets a new id. */
export const threadPurgeChangeId = (resourceId: string, work: ThreadWork) => stableId('chat.retention', resourceId, work.threadId, work.reason, work.expiry);

export class ThreadRetention {
  readonly #holds = new RunScopedCache<ActiveHolds>(HOLDS_REUSE_MS);

  constructor(private readonly deps: ThreadRetentionDeps) {}

  /** What is due for a resource now, at most `limit` threads, and what holds keep. */
  async plan(geo: GeoStore, resource: Resource, limit: number): Promise<ThreadRetentionPlan> {
    const held = await this.heldThreads(geo, resource);
    const due: DueThread[] = [];
    for await (const page of this.duePages(geo, resource, Math.min(limit, 1000), held)) {
      due.push(...page.slice(0, limit - due.length));
      if (due.length >= limit) break;
    }
    return { resourceId: resource.id, due, held: await this.heldDue(geo, resource, held) };
  }

  /**
   * Every unheld thread of the resource that is due now, page by page (continuation tokens, so
   * threads deleted meanwhile shift nothing): past their own policy first, then idle ones not also
   * past their policy, so no thread comes twice.
   */
  async *duePages(geo: GeoStore, resource: Resource, pageSize: number, held: Map<string, string[]>): AsyncGenerator<DueThread[]> {
    const bounds = this.#bounds(resource);
    for (const reason of ['retentionPolicy', 'idle'] as const) {
      if (reason === 'idle' && !bounds.idleCutoff) continue;
      const container = await geo.existingContainer('chatThreads');
      const query = container.items.query<ThreadRow>(this.#expiredQuery(resource.id, reason, bounds, [...held.keys()], false), { maxItemCount: pageSize });
      for (;;) {
        let page: { resources: ThreadRow[]; hasMoreResults: boolean };
        try {
          page = await query.fetchNext();
        } catch (error) {
          // No chatThreads container yet: nothing is due.
          if ((error as { code?: number }).code === 404) return;
          throw error;
        }
        if (page.resources.length > 0) yield page.resources.map((row) => ({ ...row, reason }));
        if (!page.hasMoreResults) break;
      }
    }
  }

  /** Due threads that holds keep (at most 200 listed per reason: they are reported, not worked on). */
  async heldDue(geo: GeoStore, resource: Resource, held: Map<string, string[]>): Promise<HeldItem[]> {
    if (held.size === 0) return [];
    const bounds = this.#bounds(resource);
    const container = await geo.existingContainer('chatThreads');
    const found = new Map<string, HeldItem>();
    for (const reason of ['retentionPolicy', 'idle'] as const) {
      if (reason === 'idle' && !bounds.idleCutoff) continue;
      const spec = this.#expiredQuery(resource.id, reason, bounds, [...held.keys()], true, 200);
      const { resources } = await emptyIfMissing(() => container.items.query<ThreadRow>(spec).fetchAll());
      for (const row of resources) found.set(row.threadId, { resourceId: resource.id, subjectType: 'chatThread', subjectId: row.threadId, holdIds: held.get(row.threadId) ?? [] });
    }
    return [...found.values()];
  }

  /** Held threads of a resource, with the holds that keep each: thread holds and every thread of a held identity. */
  async heldThreads(geo: GeoStore, resource: Resource): Promise<Map<string, string[]>> {
    const active = await this.deps.holds.active(resource);
    const held = new Map(active.threads);
    const store = new ChatStore(geo);
    for (const [identityId, holdIds] of active.identities) {
      for (const threadId of await store.threadIdsOf(identityId)) held.set(threadId, [...(held.get(threadId) ?? []), ...holdIds]);
    }
    return held;
  }

  /**
   * One work item: deletes the thread if it is still what the plan saw (its expiry unchanged: any
   * activity since moved `lastActivityAt`) and no hold placed since keeps it, in its own change with
   * its events and audit record. The change id is derived from the item, so a second delivery commits
   * nothing new: a thread this purge already marked deleted is finished, one already gone is done.
   */
  async purgeOne(geo: GeoStore, resource: Resource, work: ThreadWork): Promise<ItemOutcome> {
    // One query of the thread's partition: the thread as it is now and what it holds (the purge takes it from there).
    const survey = await this.deps.purger.survey(new ChatStore(geo), work.threadId);
    const thread = survey.thread;
    const transactionId = threadPurgeChangeId(resource.id, work);
    if (!thread) {
      // Gone: deleted by this purge (an earlier delivery finished and its instance died before counting it: the change is in the outbox), or by someone else.
      const { resource: change } = await (await geo.container('outbox')).item(transactionId, resource.id).read();
      return change ? { result: 'done', deleted: { chatThreads: 1 } } : { result: 'done' };
    }
    const ours = (thread as ThreadRecord & { changeStamp?: { id: string } }).changeStamp?.id === transactionId;
    // Being deleted by someone else (the deletion sweep finishes it), or no longer due.
    if (thread.deletedOn && !ours) return { result: 'done' };
    if (!ours && expiryOf({ reason: work.reason, lastActivityAt: thread.lastActivityAt, policyExpiresAt: thread.policyExpiresAt }) !== work.expiry) return { result: 'done' };
    const holdIds = await this.#holdsOn(geo, resource, work);
    if (holdIds.length > 0 && !ours) return { result: 'held', held: { resourceId: resource.id, subjectType: 'chatThread', subjectId: work.threadId, holdIds } };
    const { items } = await this.deps.purger.purge(resource, thread, undefined, {
      transactionId,
      survey,
      // The purge's items of a resource follow one another: each records the one before's publication.
      markPublishedLater: true,
      extraOps: [
        auditOp(
          auditRecord({
            resourceId: resource.id,
            action: 'chatThread.purged',
            subjectType: 'chatThread',
            subjectId: thread.threadId,
            reason: work.reason,
            at: this.deps.clock.now().toISOString(),
            details: { createdOn: thread.createdOn, lastActivityAt: thread.lastActivityAt, ...(thread.policyExpiresAt ? { policyExpiresAt: thread.policyExpiresAt } : {}) },
          }),
        ),
      ],
    });
    return { result: 'done', deleted: { chatThreads: 1, chatItems: items } };
  }

  /** The holds in force on one thread: on the thread itself, or on an identity that is or was in it (its membership item). */
  async #holdsOn(geo: GeoStore, resource: Resource, { threadId, runId }: ThreadWork): Promise<string[]> {
    const active = await this.#activeHolds(resource, runId);
    const holdIds = [...(active.threads.get(threadId) ?? [])];
    if (active.identities.size === 0) return holdIds;
    const memberships = await new ChatStore(geo).memberships();
    for (const [identityId, ids] of active.identities) {
      const { resource: membership } = await memberships.item(threadId, identityId).read();
      if (membership) holdIds.push(...ids);
    }
    return holdIds;
  }

  /** The resource's holds, reused by the items of one run for HOLDS_REUSE_MS. */
  #activeHolds(resource: Resource, runId: string | undefined): Promise<ActiveHolds> {
    return runId ? this.#holds.get(runId, resource.id, () => this.deps.holds.active(resource)) : this.deps.holds.active(resource);
  }

  #bounds(resource: Resource): { now: string; idleCutoff?: string } {
    const now = this.deps.clock.now();
    const { idleThreadDays } = effectiveRetention(resource.retention);
    return { now: now.toISOString(), ...(idleThreadDays > 0 ? { idleCutoff: new Date(now.getTime() - idleThreadDays * 86_400_000).toISOString() } : {}) };
  }

  #expiredQuery(resourceId: string, reason: ThreadExpiryReason, bounds: { now: string; idleCutoff?: string }, heldIds: string[], heldOnly: boolean, top?: number) {
    const policyExpired = 'IS_STRING(c.policyExpiresAt) AND c.policyExpiresAt <= @now';
    const limit = reason === 'idle' ? `c.lastActivityAt < @cutoff AND NOT (${policyExpired})` : policyExpired;
    const holdFilter = heldIds.length === 0 ? '' : heldOnly ? ' AND ARRAY_CONTAINS(@held, c.threadId)' : ' AND NOT ARRAY_CONTAINS(@held, c.threadId)';
    return {
      query:
        `SELECT ${top ? 'TOP @top ' : ''}c.threadId, c.lastActivityAt, c.policyExpiresAt FROM c WHERE c.kind = 'thread' AND c.resourceId = @rid AND ${limit}` +
        ` AND (NOT IS_DEFINED(c.deletedOn) OR IS_NULL(c.deletedOn))${holdFilter}`,
      parameters: [
        ...(top ? [{ name: '@top', value: top }] : []),
        { name: '@rid', value: resourceId },
        { name: '@now', value: bounds.now },
        ...(reason === 'idle' ? [{ name: '@cutoff', value: bounds.idleCutoff! }] : []),
        ...(heldIds.length > 0 ? [{ name: '@held', value: heldIds }] : []),
      ],
    };
  }
}
