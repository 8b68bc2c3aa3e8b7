import { ServiceError } from '../errors/service-error.js';
import type { IdentityDeletionHook } from '../identity/identity-service.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import { ChatContext, storeOp } from './chat-context.js';
import { participantRemovedEvents } from './chat-events.js';
import { deletedIdentityId, isUserMessage, participantItemId, receiptItemId, threadItemId, type MessageRecord } from './chat-records.js';
import { ChatStore } from './chat-store.js';
import { ignoreNotFound } from '../stores/not-found.js';
import type { Resource } from '../resources/resource.js';

const BATCH = 100;

/**
 * What deleting an identity does to chat, in every thread of its resource it ever took part in
 * (found from its membership partition, not by scanning threads):
 * - every message it sent is deleted outright (tombstones too: they name the sender);
 * - system messages that name it lose that entry (and are deleted when nothing else is left);
 * - a thread it created names a placeholder creator instead (the wire model requires one);
 * - its read receipts go, and it is removed from the thread with ChatThreadParticipantRemoved and the
 *   per-user variant to the remaining participants (no `removedBy`: nobody removed it).
 * Safe to run again: each step finds only what is still there.
 */
export function chatIdentityDeletionHook(ctx: ChatContext): IdentityDeletionHook {
  return async ({ resource, geo, identityId }) => {
    const store = new ChatStore(geo);
    const counts = { chatMessages: 0, chatThreadsLeft: 0 };
    // Its sends' outbox entries still waiting for their deletion on this instance (they hold the text): gone first.
    await ctx.writeMarks(resource);
    for (;;) {
      const memberships = await store.membershipPage(identityId, { limit: BATCH });
      if (memberships.length === 0) break;
      for (const { threadId } of memberships) {
        counts.chatMessages += await eraseMessages(store, threadId, identityId);
        await store.deleteThreadItem(threadId, receiptItemId(identityId));
        await leaveThread(ctx, resource, store, threadId, identityId);
        counts.chatThreadsLeft += 1;
      }
    }
    return counts;
  };
}

/**
 * Takes an identity out of a thread for good: a current participant is removed with the usual
 * events to the remaining participants; the participant item and membership go either way; a thread
 * it created names the placeholder creator. Its messages and read receipt are erased before this
 * (the membership is what finds the thread). Safe to run again.
 */
export async function leaveThread(ctx: ChatContext, resource: Resource, store: ChatStore, threadId: string, identityId: string): Promise<void> {
  const [participant, thread] = await Promise.all([store.participant(threadId, identityId), store.thread(threadId)]);
  if (participant && thread && !thread.deletedOn && !participant.removedOn) {
    const now = ctx.now();
    // Off the roster first: from then on it cannot send or be counted here.
    await ctx.changeRoster(resource, threadId, now, (roster) => roster.filter((id) => id !== identityId), { reserveSequence: false }).catch(ignoreGoneThread);
    const remaining = (await store.activeParticipants(threadId)).map((p) => p.identityId).filter((id) => id !== identityId);
    const transactionId = ctx.newTransactionId();
    await ctx.commit(resource, {
      transactionId,
      ops: [storeOp.delete('chatThreads', threadId, participantItemId(identityId)), storeOp.delete('chatMemberships', identityId, threadId)],
      events: participantRemovedEvents(thread, undefined, participant, transactionId, now),
      recipients: remaining,
    });
  } else {
    await store.deleteThreadItem(threadId, participantItemId(identityId));
    await deleteIfExists(await store.memberships(), threadId, identityId);
  }
  if (thread?.createdBy === identityId) {
    await (await store.threads()).item(threadItemId(threadId), threadId).patch([{ op: 'set', path: '/createdBy', value: deletedIdentityId(resource.id) }]).catch(ignoreNotFound);
  }
}

/**
 * Erases an identity from one message: a message it sent is deleted outright (a tombstone too: it
 * names the sender); a system message loses the identity (and is deleted when nothing is left).
 * Returns whether the message was one it sent and is now gone.
 */
export async function eraseFromMessage(store: ChatStore, threadId: string, message: MessageRecord, identityId: string): Promise<boolean> {
  if (isUserMessage(message.type)) {
    if (message.senderId === identityId) return store.deleteThreadItem(threadId, message.id);
    await (await store.threads()).items.upsert(withoutMention(message, identityId));
    return false;
  }
  const rewritten = withoutIdentity(message, identityId);
  if (rewritten) await (await store.threads()).items.upsert(rewritten);
  else await store.deleteThreadItem(threadId, message.id);
  return false;
}

/**
 * Deletes the identity's messages in a thread (a page's in one transactional batch) and strips it
 * from system messages; returns how many of its messages went. A page shorter than a full one is
 * the last: nothing naming the identity is left after it.
 */
async function eraseMessages(store: ChatStore, threadId: string, identityId: string): Promise<number> {
  let deleted = 0;
  for (;;) {
    const page = await store.messagesMentioning(threadId, identityId, BATCH);
    const sent = page.filter((message) => isUserMessage(message.type) && message.senderId === identityId);
    deleted += await store.deleteThreadItems(threadId, sent.map((message) => message.id));
    for (const message of page) if (!sent.includes(message)) await eraseFromMessage(store, threadId, message, identityId);
    if (page.length < BATCH) return deleted;
  }
}

function withoutMention(message: MessageRecord, identityId: string): MessageRecord {
  return { ...message, mentions: message.mentions.filter((id) => id !== identityId) };
}

/** A system message without the identity (as initiator or participant); undefined when nothing is left. */
function withoutIdentity(message: MessageRecord, identityId: string): MessageRecord | undefined {
  const participants = message.participants?.filter((p) => p.identityId !== identityId);
  if (message.type !== 'topicUpdated' && (!participants || participants.length === 0)) return undefined;
  const { senderId, ...rest } = message;
  return withoutMention({ ...rest, ...(senderId !== identityId && senderId ? { senderId } : {}), ...(participants ? { participants } : {}) }, identityId);
}

/** A thread deleted meanwhile has no roster to leave. */
function ignoreGoneThread(error: unknown): void {
  if (!(error instanceof ServiceError && error.code === 'NotFound')) throw error;
}
