import { randomBytes } from 'node:crypto';
import type * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import { stableId } from '../events/event-record.js';
import type { Page } from '../http/paging.js';
import { CHAT_LIMITS } from './chat-limits.js';
import { ChatContext, requireScope, storeOp, threadNotFound, type ChatCaller } from './chat-context.js';
import { threadCreatedEvents, threadPropertiesUpdatedEvents } from './chat-events.js';
import { ChatParticipants } from './chat-participants.js';
import { newMessageRecord, policyExpiresAt, threadItemId, threadItemView, threadView, type ThreadRecord } from './chat-records.js';
import type { createThreadSchema, updateThreadSchema } from './chat-requests.js';
import { ChatThreadPurger } from './chat-thread-purger.js';

export type CreateThreadInput = z.infer<typeof createThreadSchema>;
export type UpdateThreadInput = z.infer<typeof updateThreadSchema>;

/** Chat threads: create (idempotent with a repeatability id), get, update, delete, list a user's threads. */
export class ChatThreadService {
  constructor(
    private readonly ctx: ChatContext,
    private readonly participants: ChatParticipants,
    private readonly purger: ChatThreadPurger,
  ) {}

  async create(caller: ChatCaller, input: CreateThreadInput, repeatabilityId?: string): Promise<{ chatThread: Record<string, unknown>; invalidParticipants?: unknown[] }> {
    this.ctx.limit('createThread', caller);
    requireScope(caller, 'chat');
    const { resource } = caller;
    const transactionId = repeatabilityId ? stableId('chat.createThread', resource.id, caller.identityId, repeatabilityId) : this.ctx.newTransactionId();
    const threadId = `19:${(repeatabilityId ? transactionId.replace(/-/g, '') : randomBytes(16).toString('hex'))}@thread.v2`;
    const store = this.ctx.store(resource);
    if (repeatabilityId) {
      const earlier = await store.thread(threadId);
      if (earlier?.deletedOn) throw repeatedAfterDeletion();
      if (earlier) return { chatThread: threadView(earlier) };
    }
    const requested = [{ communicationIdentifier: caller.identityId }, ...(input.participants ?? [])];
    const { valid, invalid } = await this.participants.resolve(resource, requested, new Set());
    // The caller's own identity no longer resolves: its deletion began while this request was under
    // way. A thread without its creator as a member could not be found by that deletion (it walks the
    // identity's memberships), so nothing is written and the caller gets the 401 of a revoked token.
    if (invalid.some((p) => p.target === caller.identityId)) {
      throw new ServiceError('Unauthorized', 'The access token is not valid.', { headers: { 'www-authenticate': 'Bearer' } });
    }
    // The creator is listed first; their own entry in the request, if any, wins.
    const creatorEntry = input.participants?.find((p) => p.communicationIdentifier === caller.identityId);
    const members = valid.map((p) => (p.communicationIdentifier === caller.identityId && creatorEntry ? creatorEntry : p));
    if (members.length > CHAT_LIMITS.maxParticipantsPerThread) {
      throw new ServiceError('ValidationError', `A chat thread can have at most ${CHAT_LIMITS.maxParticipantsPerThread} participants.`, { target: 'participants' });
    }
    const now = this.ctx.now();
    const thread: ThreadRecord = {
      id: threadItemId(threadId),
      threadId,
      resourceId: resource.id,
      kind: 'thread',
      topic: input.topic,
      createdOn: now,
      createdBy: caller.identityId,
      metadata: input.metadata,
      retentionPolicy: input.retentionPolicy,
      policyExpiresAt: policyExpiresAt(now, input.retentionPolicy),
      roster: members.map((m) => m.communicationIdentifier),
      rosterVersion: 0,
      sequence: 2,
      lastActivityAt: now,
    };
    const added = this.participants.records(resource, threadId, members, now);
    const systemBase = { threadId, resourceId: resource.id, createdOn: now, senderId: caller.identityId };
    const participantsMessage = newMessageRecord({ ...systemBase, sequence: 1, type: 'participantAdded', participants: added.participants.map((p) => this.participants.systemEntry(p)) });
    const topicMessage = newMessageRecord({ ...systemBase, sequence: 2, type: 'topicUpdated', topic: input.topic });
    await this.ctx.commit(resource, {
      transactionId,
      ops: [
        storeOp.upsert('chatThreads', threadId, thread),
        ...added.ops,
        storeOp.upsert('chatThreads', threadId, participantsMessage),
        storeOp.upsert('chatThreads', threadId, topicMessage),
      ],
      events: threadCreatedEvents(thread, added.participants, transactionId),
      recipients: added.participants.map((p) => p.identityId),
    });
    // A repeated request racing the first one may have committed that one's thread: answer with it.
    const stored = repeatabilityId ? await store.thread(threadId) : undefined;
    // The change was committed before and its thread deleted since: there is no thread to answer with.
    if (repeatabilityId && (!stored || stored.deletedOn)) throw repeatedAfterDeletion();
    return { chatThread: threadView(stored ?? thread), ...(invalid.length > 0 ? { invalidParticipants: invalid } : {}) };
  }

  async get(caller: ChatCaller, threadId: string): Promise<Record<string, unknown>> {
    this.ctx.limit('getThread', caller);
    await this.ctx.participation(caller, threadId, { current: false });
    return threadView(await this.ctx.liveThread(caller.resource, threadId));
  }

  async update(caller: ChatCaller, threadId: string, input: UpdateThreadInput): Promise<void> {
    this.ctx.limit('updateThread', caller, threadId);
    requireScope(caller, 'chat');
    await this.ctx.participation(caller, threadId, { current: true });
    const { resource } = caller;
    const now = this.ctx.now();
    const topicChanged = input.topic !== undefined;
    const current = topicChanged ? await this.ctx.reserveSequence(resource, threadId, now, false, caller.identityId) : await this.ctx.liveThread(resource, threadId);
    const set: Record<string, unknown> = { lastActivityAt: now };
    if (input.topic !== undefined) set.topic = input.topic;
    if (input.metadata !== undefined) set.metadata = input.metadata;
    if (input.retentionPolicy !== undefined) {
      set.retentionPolicy = input.retentionPolicy;
      set.policyExpiresAt = policyExpiresAt(current.createdOn, input.retentionPolicy);
    }
    const updated: ThreadRecord = { ...current, ...set };
    const transactionId = this.ctx.newTransactionId();
    const recipients = (await this.ctx.store(resource).activeParticipants(threadId)).map((p) => p.identityId);
    const ops = [storeOp.patch('chatThreads', threadId, threadItemId(threadId), set)];
    if (topicChanged) {
      const message = newMessageRecord({
        threadId,
        resourceId: resource.id,
        createdOn: now,
        senderId: caller.identityId,
        sequence: current.sequence,
        type: 'topicUpdated',
        topic: input.topic,
      });
      ops.push(storeOp.upsert('chatThreads', threadId, message));
    }
    await this.ctx.commit(resource, { transactionId, ops, events: threadPropertiesUpdatedEvents(updated, caller.identityId, transactionId, now), recipients, entryInThread: threadId });
  }

  /** Deletes the thread and everything in it. A thread whose deletion was interrupted is finished by any later call. */
  async delete(caller: ChatCaller, threadId: string): Promise<void> {
    this.ctx.limit('deleteThread', caller);
    requireScope(caller, 'chat');
    const thread = await this.ctx.store(caller.resource).thread(threadId);
    if (thread?.deletedOn && thread.resourceId === caller.resource.id) {
      await this.purger.finish(this.ctx.store(caller.resource), threadId);
      return;
    }
    await this.ctx.participation(caller, threadId, { current: true });
    if (!thread) throw threadNotFound(threadId);
    await this.purger.purge(caller.resource, thread, caller.identityId);
  }

  /** The caller's threads, newest membership first; `startTime` keeps threads active since then. */
  async list(caller: ChatCaller, options: { maxPageSize: number; startTime?: string; cursor?: string }): Promise<Page<Record<string, unknown>>> {
    this.ctx.limit('getThread', caller);
    requireScope(caller, 'chat.join.limited');
    const store = this.ctx.store(caller.resource);
    // One more than a page: a page that ends at the last thread carries no nextLink.
    const found = await store.membershipPage(caller.identityId, { afterSortKey: options.cursor, limit: options.maxPageSize + 1 });
    const memberships = found.slice(0, options.maxPageSize);
    const threads = await Promise.all(memberships.map((m) => store.thread(m.threadId)));
    const value = threads
      .filter((t): t is ThreadRecord => t !== undefined && !t.deletedOn && t.resourceId === caller.resource.id)
      .filter((t) => options.startTime === undefined || (t.lastMessageReceivedOn ?? t.createdOn) >= options.startTime)
      .map(threadItemView);
    const last = memberships.at(-1);
    return { value, next: found.length > options.maxPageSize && last ? { syncState: last.sortKey } : undefined };
  }
}

function repeatedAfterDeletion(): ServiceError {
  return new ServiceError('Conflict', 'The chat thread this repeatability-request-id created has been deleted; send a new repeatability-request-id.', {
    target: 'repeatability-request-id',
  });
}
