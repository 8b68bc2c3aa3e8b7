import type { StoreOp } from '../events/outbox.js';
import type { Resource } from '../resources/resource.js';
import { MAX_BATCH_OPERATIONS } from '../stores/cosmos-batch.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import { ChatContext, storeOp } from './chat-context.js';
import { threadDeletedEvents } from './chat-events.js';
import { participantItemId, threadItemId, type ThreadRecord } from './chat-records.js';
import { ChatStore, type PartitionEntry } from './chat-store.js';

/** Content ids per page of a deletion: with the thread item, one transactional batch. */
const CONTENT_PAGE = MAX_BATCH_OPERATIONS - 1;

/**
 * What a thread's partition holds (one query): the thread item as stored, with its etag, and the
 * other items, all of them when `complete` (the partition has at most 100 items in all, so one
 * transactional batch can delete it).
 */
export interface ThreadSurvey {
  thread?: ThreadRecord & { _etag?: string };
  items: PartitionEntry[];
  complete: boolean;
}

/**
 * Deletes a thread and everything in it. One outbox change removes the participants and their
 * memberships and emits ChatThreadDeleted and the per-user variants (with a system purge's audit
 * record as an extra operation), and:
 * - a thread of at most 100 items (what one query of its partition finds) goes whole in the same
 *   change: one transactional batch deletes the thread item, as the query saw it (its etag), and
 *   every other item. If the thread changed in between (a message arrived), the batch fails as a
 *   whole and the items are deleted one by one, the thread item only marked deleted instead, so the
 *   chatDeletionSweep deletes what came in meanwhile;
 * - a larger thread is marked deleted in the change (every API answers 404 from then on); then the
 *   rest of its partition (messages, read receipts) goes in transactional batches of 100, the thread
 *   item with the last. If this is interrupted, the thread stays marked and `finish` completes it: a
 *   repeated DELETE does, and the chatDeletionSweep timer does for every thread left marked.
 */
export class ChatThreadPurger {
  constructor(private readonly ctx: ChatContext) {}

  /** The thread's partition as `purge` needs it: one query (two store requests with the SDK's query plan). */
  async survey(store: ChatStore, threadId: string): Promise<ThreadSurvey> {
    const { thread, items } = await store.survey(threadId, MAX_BATCH_OPERATIONS + 1);
    return { ...(thread ? { thread } : {}), items, complete: items.length + (thread ? 1 : 0) <= MAX_BATCH_OPERATIONS };
  }

  /**
   * `deletedBy` is the deleting user, or undefined when the system deletes the thread. A system
   * purge passes a `transactionId` derived from what it purges (so a rerun sends the same event ids)
   * and its audit record as an extra operation of the same change, and may pass the `survey` it
   * read the thread from (else it is read here), and may have its events' publication recorded later
   * (ChangeSet.markPublishedLater). Returns how many items of the thread's partition went (the thread
   * item, participants, messages, read receipts).
   */
  async purge(
    resource: Resource,
    thread: ThreadRecord,
    deletedBy: string | undefined,
    options: { transactionId?: string; extraOps?: StoreOp[]; survey?: ThreadSurvey; markPublishedLater?: boolean } = {},
  ): Promise<{ items: number }> {
    const { threadId } = thread;
    const store = this.ctx.store(resource);
    const survey = options.survey ?? (await this.survey(store, threadId));
    const current = survey.thread;
    // Gone meanwhile, or another deletion is under way: what is left is finished as any interrupted one.
    if (!current) return { items: 0 };
    if (current.deletedOn) return this.finish(store, threadId);
    const whole = survey.complete && current._etag !== undefined;
    const participants = whole
      ? survey.items.filter((item) => item.kind === 'participant' && item.identityId !== undefined).map((item) => ({ identityId: item.identityId!, removedOn: item.removedOn }))
      : await store.allParticipants(threadId);
    const now = this.ctx.now();
    const transactionId = options.transactionId ?? this.ctx.newTransactionId();
    // Sends whose entries' deletions wait on this instance (they hold message text): written first (none: no request).
    await this.ctx.writeMarks(resource, threadId);
    const threadOps: StoreOp[] = whole
      ? [
          storeOp.delete('chatThreads', threadId, threadItemId(threadId), { ifMatch: current._etag!, elseSet: { deletedOn: now } }),
          ...survey.items.map((item) => storeOp.delete('chatThreads', threadId, item.id)),
        ]
      : [
          storeOp.patch('chatThreads', threadId, threadItemId(threadId), { deletedOn: now }),
          ...participants.map((p) => storeOp.delete('chatThreads', threadId, participantItemId(p.identityId))),
        ];
    await this.ctx.commit(resource, {
      transactionId,
      ops: [...threadOps, ...participants.map((p) => storeOp.delete('chatMemberships', p.identityId, threadId)), ...(options.extraOps ?? [])],
      events: threadDeletedEvents(current, deletedBy, transactionId, now),
      recipients: participants.filter((p) => !p.removedOn).map((p) => p.identityId),
      markPublishedLater: options.markPublishedLater,
    });
    if (whole) return { items: survey.items.length + 1 };
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

  /**
   * Deletes what is left of a thread marked deleted, 99 items per transactional batch, the thread
   * item in the batch of the last page (a page shorter than a full one: nothing is left after it).
   * Safe to run again.
   */
  async finish(store: ChatStore, threadId: string): Promise<{ items: number }> {
    let items = 0;
    for (;;) {
      const ids = await store.contentItemIds(threadId, CONTENT_PAGE);
      const last = ids.length < CONTENT_PAGE;
      items += await store.deleteThreadItems(threadId, last ? [...ids, threadItemId(threadId)] : ids);
      if (last) return { items };
    }
  }
}
