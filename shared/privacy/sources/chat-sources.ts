import { eraseFromMessage, leaveThread } from '../../chat/chat-identity-eraser.js';
import { isUserMessage, messageItemId, messageView, receiptItemId, type MembershipRecord } from '../../chat/chat-records.js';
import { ChatStore } from '../../chat/chat-store.js';
import type { Cursor } from '../privacy-request.js';
import { inParallel, type FoundItem, type PrivacyContext, type SourcePage, type SubjectSource } from './subject-source.js';

/**
 * The subjects' chat data, found from each identity's membership partition (every thread it is or
 * was a member of), never by scanning threads: participation, the messages it sent (and system
 * messages that name it), read receipts. A held thread or a held identity keeps its items.
 */
interface ChatCursor {
  /** Which of the subjects' identities. */
  i: number;
  /** The last membership done (memberships are walked newest first, by sortKey). */
  after?: string;
  /** Messages: the thread in progress, its sortKey, and the last sequence done. */
  thread?: string;
  cur?: string;
  seq?: number;
}

const MEMBERSHIPS_PER_PAGE = 50;
/** How many threads without anything of the subject's one messages page may pass over. */
const EMPTY_THREADS_PER_PAGE = 50;

function heldIn(ctx: PrivacyContext, threadId: string, identityId: string): string[] | undefined {
  const holds = [...(ctx.holds.threads.get(threadId) ?? []), ...(ctx.holds.identities.get(identityId) ?? [])];
  return holds.length > 0 ? [...new Set(holds)] : undefined;
}

interface ThreadRef {
  t: string;
  i: string;
}

/** One page of an identity's memberships after the cursor, or the next identity's. */
async function membershipsPage(ctx: PrivacyContext, cursor: Cursor | null): Promise<{ identityId?: string; memberships: MembershipRecord[]; next: Cursor | null }> {
  const store = new ChatStore(ctx.geo);
  let c = (cursor ?? { i: 0 }) as ChatCursor;
  for (;;) {
    const identityId = ctx.subjects.identityIds[c.i];
    if (identityId === undefined) return { memberships: [], next: null };
    const memberships = await store.membershipPage(identityId, { ...(c.after ? { afterSortKey: c.after } : {}), limit: MEMBERSHIPS_PER_PAGE });
    if (memberships.length === 0) {
      c = { i: c.i + 1 };
      continue;
    }
    const next: ChatCursor = memberships.length < MEMBERSHIPS_PER_PAGE ? { i: c.i + 1 } : { i: c.i, after: memberships.at(-1)!.sortKey };
    return { identityId, memberships, next };
  }
}

/** A page of items found per membership of one identity (at most one item per thread). */
async function perMembership(
  ctx: PrivacyContext,
  cursor: Cursor | null,
  find: (store: ChatStore, membership: MembershipRecord, identityId: string) => Promise<FoundItem | undefined>,
): Promise<SourcePage> {
  const { identityId, memberships, next } = await membershipsPage(ctx, cursor);
  const store = new ChatStore(ctx.geo);
  const items: FoundItem[] = [];
  await inParallel(memberships, async (m) => {
    const item = await find(store, m, identityId!);
    if (item) items.push(item);
  });
  return { items, next };
}

export const participationSource: SubjectSource = {
  name: 'chatParticipation',
  section: 'chatParticipation',
  page(ctx, cursor) {
    return perMembership(ctx, cursor, async (store, m, identityId) => {
      const [participant, thread] = await Promise.all([store.participant(m.threadId, identityId), store.thread(m.threadId)]);
      const createdThread = thread?.createdBy === identityId;
      return {
        kind: 'chatParticipation',
        id: m.threadId,
        heldBy: heldIn(ctx, m.threadId, identityId),
        facts: { identityId, current: !!participant && !participant.removedOn, createdThread },
        view: {
          threadId: m.threadId,
          identityId,
          topic: thread?.topic,
          displayName: participant?.displayName,
          metadata: participant?.metadata,
          shareHistoryTime: participant?.shareHistoryTime,
          joinedOn: participant?.addedOn ?? m.joinedOn,
          removedOn: participant?.removedOn ?? m.removedOn,
          createdThread,
        },
        ref: { t: m.threadId, i: identityId } satisfies ThreadRef,
      };
    });
  },
  async erase(ctx, refs) {
    const store = new ChatStore(ctx.geo);
    await inParallel(refs as ThreadRef[], (r) => leaveThread(ctx.chat, ctx.resource, store, r.t, r.i), 4);
  },
};

export const readReceiptSource: SubjectSource = {
  name: 'chatReadReceipts',
  section: 'chatReadReceipts',
  page(ctx, cursor) {
    return perMembership(ctx, cursor, async (store, m, identityId) => {
      const receipt = await store.receipt(m.threadId, identityId);
      if (!receipt) return undefined;
      return {
        kind: 'chatReadReceipt',
        id: `${m.threadId}/${receiptItemId(identityId)}`,
        heldBy: heldIn(ctx, m.threadId, identityId),
        view: { threadId: m.threadId, identityId, chatMessageId: receipt.chatMessageId, readOn: receipt.readOn },
        ref: { t: m.threadId, i: identityId } satisfies ThreadRef,
      };
    });
  },
  async erase(ctx, refs) {
    const store = new ChatStore(ctx.geo);
    await inParallel(refs as ThreadRef[], (r) => store.deleteThreadItem(r.t, receiptItemId(r.i)));
  },
};

interface MessageRef extends ThreadRef {
  m: string;
  /** Sent by the identity: deleted outright, without reading it first. */
  s?: 1;
}

/** Messages the identities sent, and system messages that name them, thread by thread in sequence order. */
export const messageSource: SubjectSource = {
  name: 'chatMessages',
  section: 'chatMessages',
  async page(ctx, cursor): Promise<SourcePage> {
    const store = new ChatStore(ctx.geo);
    let c = (cursor ?? { i: 0 }) as ChatCursor;
    for (let passed = 0; ; passed += 1) {
      const identityId = ctx.subjects.identityIds[c.i];
      if (identityId === undefined) return { items: [], next: null };
      if (c.thread === undefined) {
        const [membership] = await store.membershipPage(identityId, { ...(c.after ? { afterSortKey: c.after } : {}), limit: 1 });
        if (!membership) {
          c = { i: c.i + 1 };
          continue;
        }
        c = { i: c.i, ...(c.after ? { after: c.after } : {}), thread: membership.threadId, cur: membership.sortKey, seq: 0 };
      }
      const threadId = c.thread!;
      const messages = await store.messagesMentioning(threadId, identityId, ctx.pageSize, c.seq ?? 0);
      const threadDone = messages.length < ctx.pageSize;
      const next: ChatCursor = threadDone ? { i: c.i, after: c.cur! } : { ...c, seq: messages.at(-1)!.sequence };
      if (messages.length === 0 && passed < EMPTY_THREADS_PER_PAGE) {
        c = next;
        continue;
      }
      const heldBy = heldIn(ctx, threadId, identityId);
      const items = messages.map((m): FoundItem => {
        const sent = isUserMessage(m.type) && m.senderId === identityId;
        return {
          kind: sent ? 'chatMessage' : 'chatSystemMessage',
          id: `${threadId}/${m.messageId}`,
          ...(heldBy ? { heldBy } : {}),
          ...(sent ? { view: { threadId, ...messageView(m) } } : {}),
          ref: { t: threadId, i: identityId, m: m.messageId, ...(sent ? { s: 1 as const } : {}) } satisfies MessageRef,
        };
      });
      return { items, next };
    }
  },
  async erase(ctx, refs) {
    const store = new ChatStore(ctx.geo);
    const messages = refs as MessageRef[];
    // Messages the identities sent go without being read, a thread's in transactional batches of 100.
    const sentByThread = new Map<string, string[]>();
    for (const r of messages.filter((m) => m.s)) {
      const ids = sentByThread.get(r.t) ?? [];
      ids.push(messageItemId(r.m));
      sentByThread.set(r.t, ids);
    }
    await inParallel([...sentByThread], ([threadId, ids]) => store.deleteThreadItems(threadId, ids), 4);
    await inParallel(messages.filter((r) => !r.s), async (r) => {
      const message = await store.message(r.t, r.m);
      if (message) await eraseFromMessage(store, r.t, message, r.i);
    });
  },
};

