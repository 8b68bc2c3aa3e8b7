import type { StoreOp } from '../events/outbox.js';
import type { Resource } from '../resources/resource.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import { ChatContext, storeOp } from './chat-context.js';
import { threadDeletedEvents } from './chat-events.js';
import { participantItemId, threadItemId, type ThreadRecord } from './chat-records.js';
import { ChatStore } from './chat-store.js';

const PURGE_BATCH = 100;
const PARALLEL_DELETES = 8;

/**
 * Deletes a thread and everything in it, in two steps:
 * 1. One outbox change marks the thread deleted (every API answers 404 from then on), removes its
 *    participants and their memberships, and emits ChatThreadDeleted and the per-user variants.
 * 2. The rest of the thread's partition (messages, read receipts) is deleted in batches, the thread
 *    item last. If this is interrupted, the thread stays marked and `finish` completes it: a repeated
 *    DELETE does, and the chatDeletionSweep timer does for every thread left marked.
 */
export class ChatThreadPurger {
  constructor(private readonly ctx: ChatContext) {}

  /**
   * `deletedBy` is the deleting user, or undefined when the system deletes the thread. A system
   * purge passes a `transactionId` derived from what it purges (so a rerun sends the same event ids)
   * and its audit record as an extra operation of the same change.
   */
  async purge(
    resource: Resource,
    thread: ThreadRecord,
    deletedBy: string | undefined,
    options: { transactionId?: string; extraOps?: StoreOp[] } = {},
  ): Promise<{ items: number }> {
    const { threadId } = thread;
    const store = this.ctx.store(resource);
    const participants = await store.allParticipants(threadId);
    const now = this.ctx.now();
    const transactionId = options.transactionId ?? this.ctx.newTransactionId();
    await this.ctx.commit(resource, {
      transactionId,
      ops: [
        storeOp.patch('chatThreads', threadId, threadItemId(threadId), { deletedOn: now }),
        ...participants.map((p) => storeOp.delete('chatThreads', threadId, participantItemId(p.identityId))),
        ...participants.map((p) => storeOp.delete('chatMemberships', p.identityId, threadId)),
        ...(options.extraOps ?? []),
      ],
      events: threadDeletedEvents(thread, deletedBy, transactionId, now),
      recipients: participants.filter((p) => !p.removedOn).map((p) => p.identityId),
    });
    const rest = await this.finish(store, threadId);
    return { items: participants.length + rest.items };
  }

  /**
   * Finishes deletions that were interrupted (threads marked deleted more than `graceMs` ago whose
   * items are still there), at most `max` threads per call. For a timer sweeping each geography.
   */
  async finishInterrupted(geo: GeoStore, options: { graceMs: number; max: number }): Promise<{ threads: number; items: number }> {
    const before = new Date(Date.parse(this.ctx.now()) - options.graceMs).toISOString();
    const container = await geo.existingContainer('chatThreads');
    const { resources: marked } = await emptyIfMissing(() =>
      container.items
        .query<string>({
          query: 'SELECT TOP @max VALUE c.threadId FROM c WHERE c.kind = "thread" AND IS_STRING(c.deletedOn) AND c.deletedOn < @before',
          parameters: [
            { name: '@max', value: options.max },
            { name: '@before', value: before },
          ],
        })
        .fetchAll(),
    );
    const store = new ChatStore(geo);
    let items = 0;
    for (const threadId of marked) items += (await this.finish(store, threadId)).items;
    return { threads: marked.length, items };
  }

  /** Deletes what is left of a thread marked deleted. Safe to run again. */
  async finish(store: ChatStore, threadId: string): Promise<{ items: number }> {
    let items = 0;
    for (;;) {
      const ids = await store.contentItemIds(threadId, PURGE_BATCH);
      if (ids.length === 0) break;
      for (let i = 0; i < ids.length; i += PARALLEL_DELETES) {
        await Promise.all(ids.slice(i, i + PARALLEL_DELETES).map((id) => store.deleteThreadItem(threadId, id)));
      }
      items += ids.length;
    }
    if (await store.deleteThreadItem(threadId, threadItemId(threadId))) items += 1;
    return { items };
  }
}
