import type { Resource } from '../resources/resource.js';
import { ChatContext, storeOp } from './chat-context.js';
import { threadDeletedEvents } from './chat-events.js';
import { participantItemId, threadItemId, type ThreadRecord } from './chat-records.js';

const PURGE_BATCH = 100;
const PARALLEL_DELETES = 8;

/**
 * Deletes a thread and everything in it, in two steps:
 * 1. One outbox change marks the thread deleted (every API answers 404 from then on), removes its
 *    participants and their memberships, and emits ChatThreadDeleted and the per-user variants.
 * 2. The rest of the thread's partition (messages, read receipts) is deleted in batches, the thread
 *    item last. If this is interrupted, the thread stays marked and `finish` completes it (a repeated
 *    DELETE does, and so can a sweep).
 */
export class ChatThreadPurger {
  constructor(private readonly ctx: ChatContext) {}

  /** `deletedBy` is the deleting user, or undefined when the system deletes the thread. */
  async purge(resource: Resource, thread: ThreadRecord, deletedBy: string | undefined): Promise<{ items: number }> {
    const { threadId } = thread;
    const store = this.ctx.store(resource);
    const participants = await store.allParticipants(threadId);
    const now = this.ctx.now();
    const transactionId = this.ctx.newTransactionId();
    await this.ctx.commit(resource, {
      transactionId,
      ops: [
        storeOp.patch('chatThreads', threadId, threadItemId(threadId), { deletedOn: now }),
        ...participants.map((p) => storeOp.delete('chatThreads', threadId, participantItemId(p.identityId))),
        ...participants.map((p) => storeOp.delete('chatMemberships', p.identityId, threadId)),
      ],
      events: threadDeletedEvents(thread, deletedBy, transactionId, now),
      recipients: participants.filter((p) => !p.removedOn).map((p) => p.identityId),
    });
    const rest = await this.finish(resource, threadId);
    return { items: participants.length + rest.items };
  }

  /** Deletes what is left of a thread marked deleted. Safe to run again. */
  async finish(resource: Resource, threadId: string): Promise<{ items: number }> {
    const store = this.ctx.store(resource);
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
