import type { Clock } from '../clock.js';
import type { ChatThreadPurger } from '../chat/chat-thread-purger.js';
import { ChatStore } from '../chat/chat-store.js';
import { auditOp, auditRecord } from '../audit/audit-record.js';
import { stableId } from '../events/event-record.js';
import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { Logger } from '../telemetry/logger.js';
import type { LegalHolds } from './legal-holds.js';
import { emptyTotals, type HeldItem, type PurgeTotals } from './purge-runs.js';

/**
 * Chat thread retention: a thread goes when it has been idle for the resource's `idleThreadDays`
 * (no message, edit, participant or property change: `lastActivityAt`) or when its own retention
 * policy says so (`policyExpiresAt`, creation + deleteThreadAfterDays). Expired threads are found per
 * resource with queries on those fields (composite indexes on kind, resourceId and the field), so the
 * cost grows with what expired, not with what is stored. Held threads, and threads a held identity
 * takes or took part in, are left and reported.
 *
 * The plan is the same for the preview and the run: the preview answers it, the run deletes it.
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

export interface ThreadRetentionDeps {
  holds: LegalHolds;
  purger: ChatThreadPurger;
  clock: Clock;
  logger: Logger;
}

export class ThreadRetention {
  constructor(private readonly deps: ThreadRetentionDeps) {}

  /** What a run would delete for a resource now, at most `limit` threads, and what holds keep. */
  async plan(geo: GeoStore, resource: Resource, limit: number): Promise<ThreadRetentionPlan> {
    const now = this.deps.clock.now();
    const { idleThreadDays } = effectiveRetention(resource.retention);
    const held = await this.#heldThreads(geo, resource);
    const heldIds = [...held.keys()];
    const idleCutoff = idleThreadDays > 0 ? new Date(now.getTime() - idleThreadDays * 86_400_000).toISOString() : undefined;
    const query = (reason: ThreadExpiryReason, heldOnly: boolean, top: number) =>
      this.#expired(geo, resource.id, reason === 'idle' ? { idleCutoff: idleCutoff! } : { now: now.toISOString() }, heldIds, heldOnly, top);

    const due = new Map<string, DueThread>();
    for (const reason of ['retentionPolicy', 'idle'] as const) {
      if (reason === 'idle' && !idleCutoff) continue;
      if (due.size >= limit) break;
      for (const row of await query(reason, false, limit - due.size)) if (!due.has(row.threadId)) due.set(row.threadId, { ...row, reason });
    }
    const heldDue: HeldItem[] = [];
    if (heldIds.length > 0) {
      const seen = new Set<string>();
      for (const reason of ['retentionPolicy', 'idle'] as const) {
        if (reason === 'idle' && !idleCutoff) continue;
        for (const row of await query(reason, true, 200)) {
          if (seen.has(row.threadId)) continue;
          seen.add(row.threadId);
          heldDue.push({ resourceId: resource.id, subjectType: 'chatThread', subjectId: row.threadId, holdIds: held.get(row.threadId) ?? [] });
        }
      }
    }
    return { resourceId: resource.id, due: [...due.values()].slice(0, limit), held: heldDue };
  }

  /** Deletes what the plan names, within the budget; every thread in its own change, events and audit record included. */
  async run(geo: GeoStore, resource: Resource, budget: { maxItems: number; deadline: number }): Promise<PurgeTotals> {
    const totals = emptyTotals();
    // One more than the budget, to know whether anything is left for the next run.
    const plan = await this.plan(geo, resource, budget.maxItems + 1);
    totals.skippedForHold.push(...plan.held);
    totals.stoppedAtBudget = plan.due.length > budget.maxItems;
    for (const due of plan.due.slice(0, budget.maxItems)) {
      if (Date.now() >= budget.deadline) {
        totals.stoppedAtBudget = true;
        break;
      }
      totals.examined += 1;
      try {
        const { purged, items } = await this.purgeOne(geo, resource, due);
        if (!purged) continue;
        totals.deleted.chatThreads = (totals.deleted.chatThreads ?? 0) + 1;
        totals.deleted.chatItems = (totals.deleted.chatItems ?? 0) + items;
      } catch (error) {
        totals.errors += 1;
        this.deps.logger.error('retention.thread_purge_failed', { resourceId: resource.id, geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
      }
    }
    return totals;
  }

  /**
   * Purges one thread a plan found due (a run's step, or a work item of its own): the thread as it
   * is now (one query of its partition finds it and what it holds), deleted with its events and its
   * audit record in one change whose id is derived from what expired, so a rerun after a crash
   * commits the same change with the same event ids. A thread gone meanwhile, or already being
   * deleted (the deletion sweep finishes it), is left: `purged` false. `items` counts the items of the
   * thread's partition that went (thread, participants, messages, read receipts). Throws on a store
   * failure; running it again is safe.
   */
  async purgeOne(geo: GeoStore, resource: Resource, due: DueThread): Promise<{ purged: boolean; items: number }> {
    const survey = await this.deps.purger.survey(new ChatStore(geo), due.threadId);
    const thread = survey.thread;
    if (!thread || thread.deletedOn) return { purged: false, items: 0 };
    const expiry = due.reason === 'idle' ? thread.lastActivityAt : (thread.policyExpiresAt ?? '');
    const at = this.deps.clock.now().toISOString();
    const { items } = await this.deps.purger.purge(resource, thread, undefined, {
      // Derived from what expired: a rerun after a crash commits the same change, with the same event ids.
      transactionId: stableId('chat.retention', resource.id, thread.threadId, due.reason, expiry),
      survey,
      extraOps: [
        auditOp(
          auditRecord({
            resourceId: resource.id,
            action: 'chatThread.purged',
            subjectType: 'chatThread',
            subjectId: thread.threadId,
            reason: due.reason,
            at,
            details: { createdOn: thread.createdOn, lastActivityAt: thread.lastActivityAt, ...(thread.policyExpiresAt ? { policyExpiresAt: thread.policyExpiresAt } : {}) },
          }),
        ),
      ],
    });
    return { purged: true, items };
  }

  /** Held threads of a resource, with the holds that keep each: thread holds and every thread of a held identity. */
  async #heldThreads(geo: GeoStore, resource: Resource): Promise<Map<string, string[]>> {
    const active = await this.deps.holds.active(resource);
    const held = new Map(active.threads);
    const store = new ChatStore(geo);
    for (const [identityId, holdIds] of active.identities) {
      for (const threadId of await store.threadIdsOf(identityId)) held.set(threadId, [...(held.get(threadId) ?? []), ...holdIds]);
    }
    return held;
  }

  async #expired(
    geo: GeoStore,
    resourceId: string,
    bound: { idleCutoff: string } | { now: string },
    heldIds: string[],
    heldOnly: boolean,
    top: number,
  ): Promise<ThreadRow[]> {
    const limit = 'idleCutoff' in bound ? `c.lastActivityAt < @bound` : `IS_STRING(c.policyExpiresAt) AND c.policyExpiresAt <= @bound`;
    const holdFilter = heldIds.length === 0 ? '' : heldOnly ? ' AND ARRAY_CONTAINS(@held, c.threadId)' : ' AND NOT ARRAY_CONTAINS(@held, c.threadId)';
    const container = await geo.existingContainer('chatThreads');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<ThreadRow>({
          query:
            `SELECT TOP @top c.threadId, c.lastActivityAt, c.policyExpiresAt FROM c WHERE c.kind = 'thread' AND c.resourceId = @rid AND ${limit}` +
            ` AND (NOT IS_DEFINED(c.deletedOn) OR IS_NULL(c.deletedOn))${holdFilter}`,
          parameters: [
            { name: '@top', value: top },
            { name: '@rid', value: resourceId },
            { name: '@bound', value: 'idleCutoff' in bound ? bound.idleCutoff : bound.now },
            ...(heldIds.length > 0 ? [{ name: '@held', value: heldIds }] : []),
          ],
        })
        .fetchAll(),
    );
    return resources;
  }
}
