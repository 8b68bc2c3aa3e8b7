import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { EventDraft } from '../events/event-record.js';
import type { Outbox, StoreOp } from '../events/outbox.js';
import { IdentityStore } from '../identity/identity-store.js';
import type { TokenScope } from '../identity/token-scopes.js';
import { eventSource } from '../resources/resource-service.js';
import type { Resource } from '../resources/resource.js';
import type { GeoContainerName } from '../stores/store-catalogue.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { threadItemId, type ParticipantRecord, type ThreadRecord } from './chat-records.js';
import { ChatStore } from './chat-store.js';
import type { ChatOperation, ChatThrottle } from './chat-throttle.js';

export interface ChatDeps {
  stores: StoreDirectory;
  outboxFor(geo: GeoStore): Outbox;
  clock: Clock;
  /** ACS's chat rate limits for API callers (none for the service's own work, such as erasure). */
  throttle?: ChatThrottle;
}

/** The caller of a chat operation, from a verified user access token. */
export interface ChatCaller {
  resource: Resource;
  identityId: string;
  scopes: readonly TokenScope[];
}

export interface ChatChange {
  ops: StoreOp[];
  events: EventDraft[];
  recipients?: string[];
  transactionId: string;
  /** Record the events' publication later, with the next change of the entry's partition (Outbox: ChangeSet.markPublishedLater). */
  markPublishedLater?: boolean;
  /** The thread whose partition every operation writes: the outbox entry goes there, in one batch with them (ChangeSet.entryInThread). */
  entryInThread?: string;
}

const op = {
  upsert: (container: GeoContainerName, partitionKey: string, item: { id: string }): StoreOp => ({
    op: 'upsert',
    target: { plane: 'geo', container },
    partitionKey,
    item,
  }),
  patch: (container: GeoContainerName, partitionKey: string, id: string, set: Record<string, unknown>, condition?: string): StoreOp => ({
    op: 'patch',
    target: { plane: 'geo', container },
    partitionKey,
    id,
    set,
    ...(condition ? { condition } : {}),
  }),
  /** With `unchanged`, only the item as it was at that etag; if it changed since, `elseSet` is set instead. */
  delete: (container: GeoContainerName, partitionKey: string, id: string, unchanged?: { ifMatch: string; elseSet: Record<string, unknown> }): StoreOp => ({
    op: 'delete',
    target: { plane: 'geo', container },
    partitionKey,
    id,
    ...(unchanged ?? {}),
  }),
};
export { op as storeOp };

/** What every chat operation shares: the stores of the caller's geography, access checks, commits. */
export class ChatContext {
  constructor(readonly deps: ChatDeps) {}

  now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** Counts an API call against ACS's chat rate limits (429 past one of them). */
  limit(operation: ChatOperation, caller: ChatCaller, threadId?: string): void {
    this.deps.throttle?.take(operation, caller, threadId);
  }

  newTransactionId(): string {
    return randomUUID();
  }

  store(resource: Resource): ChatStore {
    return new ChatStore(this.deps.stores.forResource(resource));
  }

  /** Whether the identity exists and is not being deleted (one being deleted cannot be added anywhere). */
  async identityExists(resource: Resource, identityId: string): Promise<boolean> {
    const record = await new IdentityStore(this.deps.stores.forResource(resource)).get(identityId);
    return record !== undefined && !record.deletingSince;
  }

  /**
   * Writes the publication marks of the resource's geography still waiting (with `threadId`, only
   * those of the thread's partition): the sends' outbox entries, which hold message text, are then
   * gone (a thread's or an identity's deletion does this first).
   */
  async writeMarks(resource: Resource, threadId?: string): Promise<void> {
    await this.deps.outboxFor(this.deps.stores.forResource(resource)).flushMarks(threadId);
  }

  /** Commits a change and its events through the geography's outbox (see shared/events/outbox.ts). */
  async commit(resource: Resource, change: ChatChange): Promise<void> {
    await (await this.commitBeside(resource, change)).published;
  }

  /** As `commit`, answering once the change is applied; `published` settles when its events are out (Outbox.commitBeside). */
  async commitBeside(resource: Resource, change: ChatChange): Promise<{ published: Promise<void> }> {
    return this.deps.outboxFor(this.deps.stores.forResource(resource)).commitBeside({
      changeId: change.transactionId,
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: change.ops,
      events: change.events,
      recipients: change.recipients,
      markPublishedLater: change.markPublishedLater,
      entryInThread: change.entryInThread,
    });
  }

  /**
   * The caller's participation in a thread (and a token with one of the chat scopes). A caller who is not (or, with `current`, no longer) a
   * participant gets 403; a thread that does not exist (or is being deleted) gets 404.
   */
  async participation(caller: ChatCaller, threadId: string, options: { current: boolean }): Promise<ParticipantRecord> {
    requireScope(caller, 'chat.join.limited');
    const store = this.store(caller.resource);
    const participant = await store.participant(threadId, caller.identityId);
    if (participant && participant.resourceId === caller.resource.id && (!options.current || !participant.removedOn)) return participant;
    const thread = await store.thread(threadId);
    if (!thread || thread.deletedOn || thread.resourceId !== caller.resource.id) throw threadNotFound(threadId);
    if (participant) throw new ServiceError('Forbidden', 'The caller was removed from this chat thread.');
    throw new ServiceError('Forbidden', 'The caller is not a participant of this chat thread.');
  }

  /** A thread that exists and is not being deleted, or 404. */
  async liveThread(resource: Resource, threadId: string): Promise<ThreadRecord> {
    const thread = await this.store(resource).thread(threadId);
    if (!thread || thread.deletedOn || thread.resourceId !== resource.id) throw threadNotFound(threadId);
    return thread;
  }

  /**
   * Hands out the thread's next sequence id with one atomic patch (concurrent senders never share
   * one), and records the activity. A sequence id whose change then fails is skipped, not reused.
   * With `sender`, the patch applies only while the sender is in the thread's roster (and the thread
   * is the resource's): a send that loses the race with the sender's removal is refused (403), so no
   * message of a removed participant gets a sequence after their removal's. The thread it answers
   * is as the patch left it (the roster: who the message goes to).
   */
  async reserveSequence(resource: Resource, threadId: string, at: string, userMessage: boolean, sender?: string): Promise<ThreadRecord> {
    const container = await this.store(resource).threads();
    for (let attempt = 0; ; attempt += 1) {
      const member = sender ? ` AND c.resourceId = ${JSON.stringify(resource.id)} AND ARRAY_CONTAINS(c.roster, ${JSON.stringify(sender)})` : '';
      try {
        const { resource: thread } = await container.item(threadItemId(threadId), threadId).patch<ThreadRecord>({
          condition: `FROM c WHERE (NOT IS_DEFINED(c.deletedOn) OR IS_NULL(c.deletedOn))${member}`,
          operations: [
            { op: 'incr', path: '/sequence', value: 1 },
            { op: 'set', path: '/lastActivityAt', value: at },
            ...(userMessage ? [{ op: 'set' as const, path: '/lastMessageReceivedOn', value: at }] : []),
          ],
        });
        if (!thread) throw threadNotFound(threadId);
        return thread;
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code !== 404 && code !== 412) throw error;
        const thread = await this.liveThread(resource, threadId);
        // A thread written before rosters existed gets its roster once, then the send is tried again.
        if (sender && thread.roster === undefined && attempt === 0) {
          await this.changeRoster(resource, threadId, at, (roster) => [...roster], { reserveSequence: false });
          continue;
        }
        throw new ServiceError('Forbidden', 'The caller is not a participant of this chat thread.');
      }
    }
  }

  /**
   * Changes the thread's roster (its current participants' ids, kept on the thread item) with
   * optimistic concurrency on `rosterVersion`: the change is computed from the roster as read and
   * applied only if no other roster change came in between, else computed again. So the participant
   * cap holds under any concurrency, and a removal and a send are ordered by the thread item. Sends
   * never change `rosterVersion`, so they do not make roster changes retry. `change` returns the new
   * roster (it may throw to refuse); the same roster back means nothing to do (no write, `changed`
   * false). With `reserveSequence`, the same patch hands out the next sequence id.
   */
  async changeRoster(
    resource: Resource,
    threadId: string,
    at: string,
    change: (roster: readonly string[], thread: ThreadRecord) => string[],
    options: { reserveSequence: boolean },
  ): Promise<{ thread: ThreadRecord; changed: boolean }> {
    const store = this.store(resource);
    const container = await store.threads();
    for (let attempt = 0; attempt < ROSTER_ATTEMPTS; attempt += 1) {
      const thread = await this.liveThread(resource, threadId);
      const roster = thread.roster ?? (await store.activeParticipants(threadId)).map((p) => p.identityId);
      const next = change(roster, thread);
      const same = thread.roster !== undefined && next.length === roster.length && next.every((id, i) => id === roster[i]);
      if (same) return { thread, changed: false };
      const version = thread.rosterVersion === undefined ? 'NOT IS_DEFINED(c.rosterVersion)' : `c.rosterVersion = ${thread.rosterVersion}`;
      try {
        const { resource: updated } = await container.item(threadItemId(threadId), threadId).patch<ThreadRecord>({
          condition: `FROM c WHERE ${version} AND (NOT IS_DEFINED(c.deletedOn) OR IS_NULL(c.deletedOn))`,
          operations: [
            { op: 'set', path: '/roster', value: next },
            { op: 'incr', path: '/rosterVersion', value: 1 },
            ...(options.reserveSequence
              ? [
                  { op: 'incr' as const, path: '/sequence', value: 1 },
                  { op: 'set' as const, path: '/lastActivityAt', value: at },
                ]
              : []),
          ],
        });
        if (updated) return { thread: updated, changed: true };
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code !== 404 && code !== 412) throw error;
      }
      // Another roster change came first (or the thread went): read again and recompute.
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 ** attempt)));
    }
    throw new ServiceError('Conflict', 'The participants of this chat thread are being changed concurrently; try again.', { target: 'participants' });
  }
}

/** How often a roster change is recomputed when other roster changes keep coming first. */
const ROSTER_ATTEMPTS = 30;

export function threadNotFound(threadId: string): ServiceError {
  return new ServiceError('NotFound', `Chat thread '${threadId}' was not found.`, { target: 'chatThreadId' });
}

/** `chat` may do everything; `chat.join` may not create, update or delete threads; `chat.join.limited` may also not add or remove participants. */
export function requireScope(caller: ChatCaller, needs: 'chat' | 'chat.join' | 'chat.join.limited'): void {
  const allowed: Record<typeof needs, TokenScope[]> = {
    chat: ['chat'],
    'chat.join': ['chat', 'chat.join'],
    'chat.join.limited': ['chat', 'chat.join', 'chat.join.limited'],
  };
  if (!caller.scopes.some((s) => allowed[needs].includes(s))) {
    throw new ServiceError('Forbidden', `The access token's scopes do not allow this operation; it needs one of: ${allowed[needs].join(', ')}.`);
  }
}
