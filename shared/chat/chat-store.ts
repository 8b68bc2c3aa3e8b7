import type { Container, SqlQuerySpec } from '@azure/cosmos';
import { deleteInPartition } from '../stores/cosmos-batch.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import { THREAD_ENTRY_KIND } from '../events/entry-home.js';
import {
  messageItemId,
  participantItemId,
  receiptItemId,
  threadItemId,
  type MembershipRecord,
  type MessageRecord,
  type ParticipantRecord,
  type ReceiptRecord,
  type ThreadRecord,
} from './chat-records.js';

/** An item of a thread's partition other than the thread item, as a survey lists it. */
export interface PartitionEntry {
  id: string;
  kind: 'participant' | 'message' | 'receipt' | 'thread';
  identityId?: string;
  removedOn?: string;
}

/**
 * The thread's items but the outbox entries (a send's, shared/events/entry-home.ts): those are deleted
 * once their events are published, so a thread's deletion leaves them to that and never drops an event.
 */
const ALL_BUT_ENTRIES = `c.kind != "${THREAD_ENTRY_KIND}"`;

/**
 * Reads of one geography's chat data. Every thread operation stays in the thread's partition; a
 * user's threads are listed from the user's membership partition. Writes go through the outbox
 * (see the chat services), except the sequence reservation, which must be atomic on its own.
 */
export class ChatStore {
  constructor(private readonly geo: GeoStore) {}

  threads(): Promise<Container> {
    return this.geo.container('chatThreads');
  }

  memberships(): Promise<Container> {
    return this.geo.container('chatMemberships');
  }

  async thread(threadId: string): Promise<ThreadRecord | undefined> {
    return this.#read<ThreadRecord>(threadId, threadItemId(threadId));
  }

  async participant(threadId: string, identityId: string): Promise<ParticipantRecord | undefined> {
    return this.#read<ParticipantRecord>(threadId, participantItemId(identityId));
  }

  async message(threadId: string, messageId: string): Promise<MessageRecord | undefined> {
    return this.#read<MessageRecord>(threadId, messageItemId(messageId));
  }

  async receipt(threadId: string, identityId: string): Promise<ReceiptRecord | undefined> {
    return this.#read<ReceiptRecord>(threadId, receiptItemId(identityId));
  }

  /** The thread's current participants (at most 250), in the order they were added. */
  async activeParticipants(threadId: string): Promise<ParticipantRecord[]> {
    return this.#query<ParticipantRecord>(threadId, {
      query: 'SELECT * FROM c WHERE c.threadId = @threadId AND c.kind = "participant" AND NOT IS_DEFINED(c.removedOn) ORDER BY c.addedOn',
    });
  }

  /** Every participant record, removed ones included. */
  async allParticipants(threadId: string): Promise<ParticipantRecord[]> {
    return this.#query<ParticipantRecord>(threadId, { query: 'SELECT * FROM c WHERE c.threadId = @threadId AND c.kind = "participant"' });
  }

  async receipts(threadId: string): Promise<ReceiptRecord[]> {
    return this.#query<ReceiptRecord>(threadId, { query: 'SELECT * FROM c WHERE c.threadId = @threadId AND c.kind = "receipt" ORDER BY c.readOn DESC' });
  }

  /**
   * One page of messages, newest first: sequence below `beforeSequence`, created at or after
   * `since`, and at most `upToSequence` (a removed participant's window).
   */
  async messagePage(
    threadId: string,
    window: { beforeSequence?: number; since?: string; upToSequence?: number; limit: number },
  ): Promise<MessageRecord[]> {
    const conditions = ['c.threadId = @threadId', 'c.kind = "message"'];
    const parameters: { name: string; value: string | number }[] = [{ name: '@limit', value: window.limit }];
    if (window.beforeSequence !== undefined) {
      conditions.push('c.sequence < @before');
      parameters.push({ name: '@before', value: window.beforeSequence });
    }
    if (window.upToSequence !== undefined) {
      conditions.push('c.sequence <= @upTo');
      parameters.push({ name: '@upTo', value: window.upToSequence });
    }
    if (window.since !== undefined) {
      conditions.push('c.createdOn >= @since');
      parameters.push({ name: '@since', value: window.since });
    }
    return this.#query<MessageRecord>(threadId, {
      query: `SELECT TOP @limit * FROM c WHERE ${conditions.join(' AND ')} ORDER BY c.sequence DESC`,
      parameters,
    });
  }

  /**
   * Messages that name an identity (sent by it, or system messages about it), a bounded batch in
   * sequence order after `afterSequence` (a privacy request's cursor; 0 from the start).
   */
  async messagesMentioning(threadId: string, identityId: string, limit: number, afterSequence = 0): Promise<MessageRecord[]> {
    return this.#query<MessageRecord>(threadId, {
      query: 'SELECT TOP @limit * FROM c WHERE c.threadId = @threadId AND c.kind = "message" AND ARRAY_CONTAINS(c.mentions, @id) AND c.sequence > @after ORDER BY c.sequence',
      parameters: [
        { name: '@limit', value: limit },
        { name: '@id', value: identityId },
        { name: '@after', value: afterSequence },
      ],
    });
  }

  /**
   * Ids of a bounded batch of the thread's items other than the thread item itself (and outbox
   * entries: see ALL_BUT_ENTRIES).
   */
  async contentItemIds(threadId: string, limit: number): Promise<string[]> {
    return this.#query<string>(threadId, {
      query: `SELECT TOP @limit VALUE c.id FROM c WHERE c.threadId = @threadId AND c.kind != "thread" AND ${ALL_BUT_ENTRIES}`,
      parameters: [{ name: '@limit', value: limit }],
    });
  }

  async deleteThreadItem(threadId: string, id: string): Promise<boolean> {
    return deleteIfExists(await this.threads(), id, threadId);
  }

  /**
   * Deletes items of the thread's partition, 100 per transactional batch (one store request each);
   * what is already gone is skipped. Returns how many this call deleted.
   */
  async deleteThreadItems(threadId: string, ids: readonly string[]): Promise<number> {
    return deleteInPartition(await this.threads(), threadId, ids);
  }

  /**
   * What the thread's partition holds, in one query (at most `limit` items): the thread item whole
   * (with its etag), the other items by id and kind, participants with who and whether removed.
   */
  async survey(threadId: string, limit: number): Promise<{ thread?: ThreadRecord & { _etag?: string }; items: PartitionEntry[] }> {
    const rows = await this.#query<PartitionEntry & { thread: (ThreadRecord & { _etag?: string }) | null }>(threadId, {
      query: `SELECT TOP @limit c.id, c.kind, c.identityId, c.removedOn, (c.kind = "thread" ? c : null) AS thread FROM c WHERE c.threadId = @threadId AND ${ALL_BUT_ENTRIES}`,
      parameters: [{ name: '@limit', value: limit }],
    });
    const thread = rows.find((row) => row.kind === 'thread')?.thread ?? undefined;
    const items = rows.filter((row) => row.kind !== 'thread').map(({ id, kind, identityId, removedOn }) => ({ id, kind, ...(identityId !== undefined ? { identityId } : {}), ...(removedOn !== undefined ? { removedOn } : {}) }));
    return { ...(thread ? { thread } : {}), items };
  }

  /** One page of an identity's threads, newest membership first, after `afterSortKey`. */
  async membershipPage(identityId: string, page: { afterSortKey?: string; limit: number }): Promise<MembershipRecord[]> {
    const parameters: { name: string; value: string | number }[] = [
      { name: '@limit', value: page.limit },
      { name: '@identityId', value: identityId },
    ];
    let filter = 'WHERE c.identityId = @identityId';
    if (page.afterSortKey !== undefined) {
      filter += ' AND c.sortKey < @after';
      parameters.push({ name: '@after', value: page.afterSortKey });
    }
    const container = await this.memberships();
    const { resources } = await container.items
      .query<MembershipRecord>({ query: `SELECT TOP @limit * FROM c ${filter} ORDER BY c.sortKey DESC`, parameters }, { partitionKey: identityId })
      .fetchAll();
    return resources;
  }

  /** Every thread an identity is or was a member of (its membership partition). */
  async threadIdsOf(identityId: string): Promise<string[]> {
    const container = await this.memberships();
    const { resources } = await container.items
      .query<string>({ query: 'SELECT VALUE c.threadId FROM c WHERE c.identityId = @identityId', parameters: [{ name: '@identityId', value: identityId }] }, { partitionKey: identityId })
      .fetchAll();
    return resources;
  }

  async #read<T>(threadId: string, id: string): Promise<T | undefined> {
    const { resource } = await (await this.threads()).item(id, threadId).read();
    return resource as T | undefined;
  }

  /**
   * A query in the thread's partition. The query names the partition too (`c.threadId = @threadId`):
   * the embedded emulator ignores the partitionKey option, and on Cosmos the filter costs nothing.
   */
  async #query<T>(threadId: string, spec: SqlQuerySpec): Promise<T[]> {
    const parameters = [...(spec.parameters ?? []), { name: '@threadId', value: threadId }];
    const { resources } = await (await this.threads()).items.query({ ...spec, parameters }, { partitionKey: threadId }).fetchAll();
    return resources as T[];
  }
}
