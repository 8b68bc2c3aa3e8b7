import type { IdentityDeletionHook } from '../identity/identity-service.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import { ChatContext, storeOp } from './chat-context.js';
import { participantRemovedEvents } from './chat-events.js';
import { deletedIdentityId, isUserMessage, participantItemId, receiptItemId, threadItemId, type MessageRecord } from './chat-records.js';
import { ChatStore } from './chat-store.js';
import { ignoreNotFound } from '../stores/not-found.js';

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
    for (;;) {
      const memberships = await store.membershipPage(identityId, { limit: BATCH });
      if (memberships.length === 0) break;
      for (const { threadId } of memberships) {
        counts.chatMessages += await eraseMessages(store, threadId, identityId);
        await store.deleteThreadItem(threadId, receiptItemId(identityId));
        const [participant, thread] = await Promise.all([store.participant(threadId, identityId), store.thread(threadId)]);
        if (participant && thread && !thread.deletedOn && !participant.removedOn) {
          const remaining = (await store.activeParticipants(threadId)).map((p) => p.identityId).filter((id) => id !== identityId);
          const now = ctx.now();
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
        counts.chatThreadsLeft += 1;
      }
    }
    return counts;
  };
}

/** Deletes the identity's messages in a thread and strips it from system messages; returns how many of its messages went. */
async function eraseMessages(store: ChatStore, threadId: string, identityId: string): Promise<number> {
  const container = await store.threads();
  let deleted = 0;
  for (;;) {
    const batch = await store.messagesMentioning(threadId, identityId, BATCH);
    if (batch.length === 0) return deleted;
    for (const message of batch) {
      if (isUserMessage(message.type)) {
        if (message.senderId === identityId && (await store.deleteThreadItem(threadId, message.id))) deleted += 1;
        else if (message.senderId !== identityId) await container.items.upsert(withoutMention(message, identityId));
        continue;
      }
      const rewritten = withoutIdentity(message, identityId);
      if (rewritten) await container.items.upsert(rewritten);
      else await store.deleteThreadItem(threadId, message.id);
    }
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
