import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { EventDraft } from '../events/event-record.js';
import type { Outbox, StoreOp } from '../events/outbox.js';
import { IdentityStore } from '../identity/identity-store.js';
import type { TokenScope } from '../identity/token-scopes.js';
import { eventSource } from '../resources/resource-service.js';
import type { Resource } from '../resources/resource.js';
import type { GeoContainerName } from '../stores/geo-containers.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { threadItemId, type ParticipantRecord, type ThreadRecord } from './chat-records.js';
import { ChatStore } from './chat-store.js';

export interface ChatDeps {
  stores: StoreDirectory;
  outboxFor(geo: GeoStore): Outbox;
  clock: Clock;
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
  delete: (container: GeoContainerName, partitionKey: string, id: string): StoreOp => ({
    op: 'delete',
    target: { plane: 'geo', container },
    partitionKey,
    id,
  }),
};
export { op as storeOp };

/** What every chat operation shares: the stores of the caller's geography, access checks, commits. */
export class ChatContext {
  constructor(readonly deps: ChatDeps) {}

  now(): string {
    return this.deps.clock.now().toISOString();
  }

  newTransactionId(): string {
    return randomUUID();
  }

  store(resource: Resource): ChatStore {
    return new ChatStore(this.deps.stores.forResource(resource));
  }

  async identityExists(resource: Resource, identityId: string): Promise<boolean> {
    return (await new IdentityStore(this.deps.stores.forResource(resource)).get(identityId)) !== undefined;
  }

  /** Commits a change and its events through the geography's outbox (see shared/events/outbox.ts). */
  async commit(resource: Resource, change: ChatChange): Promise<void> {
    await this.deps.outboxFor(this.deps.stores.forResource(resource)).commit({
      changeId: change.transactionId,
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: change.ops,
      events: change.events,
      recipients: change.recipients,
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
   */
  async reserveSequence(resource: Resource, threadId: string, at: string, userMessage: boolean): Promise<ThreadRecord> {
    const container = await this.store(resource).threads();
    try {
      const { resource: thread } = await container.item(threadItemId(threadId), threadId).patch<ThreadRecord>({
        condition: 'FROM c WHERE NOT IS_DEFINED(c.deletedOn) OR IS_NULL(c.deletedOn)',
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
      if (code === 404 || code === 412) throw threadNotFound(threadId);
      throw error;
    }
  }
}

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
