import { ServiceError } from '../errors/service-error.js';
import type { StoreOp } from '../events/outbox.js';
import type { Page } from '../http/paging.js';
import { resourceIdOf } from '../identity/identity-id.js';
import type { Resource } from '../resources/resource.js';
import { ChatContext, requireScope, storeOp, type ChatCaller } from './chat-context.js';
import { participantAddedEvents, participantRemovedEvents } from './chat-events.js';
import { CHAT_LIMITS } from './chat-limits.js';
import {
  newMessageRecord,
  participantItemId,
  participantView,
  type MembershipRecord,
  type ParticipantRecord,
  type SystemParticipant,
} from './chat-records.js';
import type { ParticipantInput } from './chat-requests.js';

type RequestedParticipant = Omit<ParticipantInput, 'communicationIdentifier'> & { communicationIdentifier: string };

/** The ACS `CommunicationError` of a participant that could not be added. */
export interface InvalidParticipant {
  code: string;
  message: string;
  target: string;
}

/** Participants of a thread: list, add, remove; and the records a thread's creation writes. */
export class ChatParticipants {
  constructor(private readonly ctx: ChatContext) {}

  async list(caller: ChatCaller, threadId: string, page: { maxPageSize: number; skip: number }): Promise<Page<Record<string, unknown>>> {
    this.ctx.limit('listParticipants', caller, threadId);
    await this.ctx.participation(caller, threadId, { current: true });
    const all = await this.ctx.store(caller.resource).activeParticipants(threadId);
    const end = page.skip + page.maxPageSize;
    return { value: all.slice(page.skip, end).map(participantView), next: end < all.length ? { skip: String(end) } : undefined };
  }

  async add(caller: ChatCaller, threadId: string, requested: ParticipantInput[]): Promise<{ invalidParticipants?: InvalidParticipant[] }> {
    this.ctx.limit('changeParticipants', caller, threadId);
    requireScope(caller, 'chat.join');
    await this.ctx.participation(caller, threadId, { current: true });
    const { resource } = caller;
    const active = await this.ctx.store(resource).activeParticipants(threadId);
    const { valid, invalid } = await this.resolve(resource, requested, new Set(active.map((p) => p.identityId)));
    const answer = invalid.length > 0 ? { invalidParticipants: invalid } : {};
    if (valid.length === 0) return answer;
    const now = this.ctx.now();
    // The cap is checked against the roster as it is when the change applies, not as it was read.
    let fresh: RequestedParticipant[] = [];
    const { thread, changed } = await this.ctx.changeRoster(
      resource,
      threadId,
      now,
      (roster) => {
        if (!roster.includes(caller.identityId)) throw new ServiceError('Forbidden', 'The caller is not a participant of this chat thread.');
        fresh = valid.filter((p) => !roster.includes(p.communicationIdentifier));
        const next = [...roster, ...fresh.map((p) => p.communicationIdentifier)];
        if (next.length > CHAT_LIMITS.maxParticipantsPerThread) {
          throw new ServiceError(
            'ValidationError',
            `A chat thread can have at most ${CHAT_LIMITS.maxParticipantsPerThread} participants; it has ${roster.length} and ${fresh.length} would be added.`,
            { target: 'participants' },
          );
        }
        return next;
      },
      { reserveSequence: true },
    );
    if (!changed || fresh.length === 0) return answer;
    const added = this.records(resource, threadId, fresh, now);
    const message = newMessageRecord({
      threadId,
      resourceId: resource.id,
      type: 'participantAdded',
      sequence: thread.sequence,
      createdOn: now,
      senderId: caller.identityId,
      participants: added.participants.map((p) => this.systemEntry(p)),
    });
    const transactionId = this.ctx.newTransactionId();
    await this.ctx.commit(resource, {
      transactionId,
      ops: [...added.ops, storeOp.upsert('chatThreads', threadId, message)],
      events: added.participants.flatMap((p) => participantAddedEvents(thread, caller.identityId, p, transactionId, now)),
      recipients: thread.roster ?? [],
    });
    return answer;
  }

  /**
   * Removes a participant (the caller may remove themselves); someone who is not one is left alone. They keep seeing the messages up to the
   * removal's system message and nothing later, and receive no further per-user events. The roster
   * change and the removal's sequence id are one patch of the thread item, so a send that has not
   * reserved its sequence id by then is refused.
   */
  async remove(caller: ChatCaller, threadId: string, identityId: string): Promise<void> {
    this.ctx.limit('changeParticipants', caller, threadId);
    requireScope(caller, identityId === caller.identityId ? 'chat.join.limited' : 'chat.join');
    await this.ctx.participation(caller, threadId, { current: true });
    const { resource } = caller;
    const store = this.ctx.store(resource);
    const target = await store.participant(threadId, identityId);
    // As ACS answers (204): removing someone who is not (or no longer) a participant changes nothing.
    if (!target || target.removedOn) return;
    const now = this.ctx.now();
    const change = await this.ctx.changeRoster(resource, threadId, now, (roster) => roster.filter((id) => id !== identityId), { reserveSequence: true });
    // Off the roster already (an earlier removal stopped half-way): the records still need finishing.
    const thread = change.changed ? change.thread : await this.ctx.reserveSequence(resource, threadId, now, false);
    const recipients = (await store.activeParticipants(threadId)).map((p) => p.identityId);
    const message = newMessageRecord({
      threadId,
      resourceId: resource.id,
      type: 'participantRemoved',
      sequence: thread.sequence,
      createdOn: now,
      senderId: caller.identityId,
      participants: [this.systemEntry(target)],
    });
    const transactionId = this.ctx.newTransactionId();
    await this.ctx.commit(resource, {
      transactionId,
      ops: [
        storeOp.patch('chatThreads', threadId, participantItemId(identityId), { removedOn: now, removedAtSequence: thread.sequence }),
        storeOp.patch('chatMemberships', identityId, threadId, { removedOn: now }),
        storeOp.upsert('chatThreads', threadId, message),
      ],
      events: participantRemovedEvents(thread, caller.identityId, target, transactionId, now),
      recipients,
    });
  }

  /**
   * Splits requested participants into those that can be added (communication users of this resource
   * that exist, not already in `present`, each once) and the ACS `invalidParticipants` entries.
   */
  async resolve(resource: Resource, requested: RequestedParticipant[], present: Set<string>): Promise<{ valid: RequestedParticipant[]; invalid: InvalidParticipant[] }> {
    const unique = new Map<string, RequestedParticipant>();
    for (const p of requested) if (!present.has(p.communicationIdentifier) && !unique.has(p.communicationIdentifier)) unique.set(p.communicationIdentifier, p);
    const checked = await Promise.all(
      [...unique.values()].map(async (p) => {
        const id = p.communicationIdentifier;
        const exists = resourceIdOf(id) === resource.id && (await this.ctx.identityExists(resource, id));
        return { p, exists };
      }),
    );
    return {
      valid: checked.filter((c) => c.exists).map((c) => c.p),
      invalid: checked
        .filter((c) => !c.exists)
        .map(({ p }) => ({ code: 'NotFound', message: `Identity '${p.communicationIdentifier}' does not exist in this resource.`, target: p.communicationIdentifier })),
    };
  }

  /** The participant and membership records of new participants, and the ops that write them. */
  records(resource: Resource, threadId: string, members: RequestedParticipant[], now: string): { participants: ParticipantRecord[]; ops: StoreOp[] } {
    const participants = members.map((m): ParticipantRecord => ({
      id: participantItemId(m.communicationIdentifier),
      threadId,
      resourceId: resource.id,
      kind: 'participant',
      identityId: m.communicationIdentifier,
      displayName: m.displayName,
      metadata: m.metadata,
      shareHistoryTime: m.shareHistoryTime,
      addedOn: now,
    }));
    const memberships = participants.map((p): MembershipRecord => ({
      id: threadId,
      identityId: p.identityId,
      threadId,
      resourceId: resource.id,
      joinedOn: now,
      sortKey: `${now}|${threadId}`,
    }));
    return {
      participants,
      ops: [
        ...participants.map((p) => storeOp.upsert('chatThreads', threadId, p)),
        ...memberships.map((m) => storeOp.upsert('chatMemberships', m.identityId, m)),
      ],
    };
  }

  systemEntry(p: Pick<ParticipantRecord, 'identityId' | 'displayName' | 'shareHistoryTime' | 'metadata'>): SystemParticipant {
    return { identityId: p.identityId, displayName: p.displayName, shareHistoryTime: p.shareHistoryTime, metadata: p.metadata };
  }
}
