import type * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import type { Page } from '../http/paging.js';
import { ChatContext, requireScope, storeOp, type ChatCaller } from './chat-context.js';
import { messageEvents } from './chat-events.js';
import {
  isUserMessage,
  messageItemId,
  messageView,
  newMessageRecord,
  threadItemId,
  type MessageRecord,
  type ParticipantRecord,
} from './chat-records.js';
import type { sendMessageSchema, updateMessageSchema } from './chat-requests.js';

export type SendMessageInput = z.infer<typeof sendMessageSchema>;
export type UpdateMessageInput = z.infer<typeof updateMessageSchema>;

const NOT_DELETED = 'FROM c WHERE NOT IS_DEFINED(c.deletedOn)';

/** Whether a participant may see a message: from their shareHistoryTime on, and up to their removal. */
export function isVisibleTo(participant: ParticipantRecord, message: MessageRecord): boolean {
  // Instants, not texts: a shareHistoryTime stored before validation made it canonical may have an
  // offset or a six-digit year. One that cannot be read hides everything (NaN compares false).
  if (participant.shareHistoryTime && !(Date.parse(message.createdOn) >= Date.parse(participant.shareHistoryTime))) return false;
  if (participant.removedAtSequence !== undefined && message.sequence > participant.removedAtSequence) return false;
  return true;
}

/**
 * Chat messages: send, get, list (newest first), edit and delete. Every operation is in the thread's
 * partition. An edit overwrites the content in place; a delete replaces the message with a tombstone
 * that keeps only its ids, type, sequence, times and sender.
 */
export class ChatMessageService {
  constructor(private readonly ctx: ChatContext) {}

  /**
   * Sends a message. Answers once it is stored, its events still being published: the caller awaits
   * `published` before it answers its own caller (chat-messages.ts, beside the request's post-write
   * check and log record).
   */
  async send(caller: ChatCaller, threadId: string, input: SendMessageInput): Promise<{ id: string; published: Promise<void> }> {
    this.ctx.limit('changeMessage', caller, threadId);
    const { resource } = caller;
    requireScope(caller, 'chat.join.limited');
    const now = this.ctx.now();
    // The sequence patch is the participation check (the sender must be on the thread's roster) and
    // answers the roster, the recipients: no separate participant read.
    const thread = await this.ctx.reserveSequence(resource, threadId, now, true, caller.identityId).catch(async (error: unknown) => {
      // Refused: the answer a participation check gives (404 for a thread that is gone, 403 removed or never a participant).
      if (error instanceof ServiceError && error.code === 'Forbidden') await this.ctx.participation(caller, threadId, { current: true });
      throw error;
    });
    const message = newMessageRecord({
      threadId,
      resourceId: resource.id,
      type: input.type,
      sequence: thread.sequence,
      createdOn: now,
      senderId: caller.identityId,
      senderDisplayName: input.senderDisplayName,
      content: input.content,
      metadata: input.metadata,
    });
    const transactionId = this.ctx.newTransactionId();
    const { published } = await this.ctx.commitBeside(resource, {
      transactionId,
      ops: [storeOp.upsert('chatThreads', threadId, message)],
      events: messageEvents('received', message, transactionId, now),
      recipients: thread.roster ?? [],
      // The entry in the thread's partition, in one batch with the message: one store request.
      entryInThread: threadId,
      // A send answers once its events are published; that they were is written with the thread's next send.
      markPublishedLater: true,
    });
    return { id: message.messageId, published };
  }

  async get(caller: ChatCaller, threadId: string, messageId: string): Promise<Record<string, unknown>> {
    this.ctx.limit('getMessage', caller, threadId);
    const participant = await this.ctx.participation(caller, threadId, { current: false });
    const message = await this.ctx.store(caller.resource).message(threadId, messageId);
    if (!message || !isVisibleTo(participant, message)) throw messageNotFound(messageId);
    return messageView(message);
  }

  async list(caller: ChatCaller, threadId: string, options: { maxPageSize: number; startTime?: string; cursor?: number }): Promise<Page<Record<string, unknown>>> {
    this.ctx.limit('listMessages', caller, threadId);
    const participant = await this.ctx.participation(caller, threadId, { current: false });
    // The later of the two as an instant, in the canonical form the store compares createdOn with (as
    // text). A stored shareHistoryTime that is not canonical (from before validation) is read as the
    // instant it names; beyond the year 9999, or unreadable, it hides everything.
    const times = [options.startTime, participant.shareHistoryTime].filter((t): t is string => !!t).map((t) => Date.parse(t));
    const [minTime, maxTime] = [Date.parse('0000-01-01T00:00:00.000Z'), Date.parse('9999-12-31T23:59:59.999Z')];
    const latest = times.length === 0 ? undefined : Math.max(...times);
    const since = latest === undefined ? undefined : new Date(Number.isNaN(latest) ? maxTime : Math.min(Math.max(latest, minTime), maxTime)).toISOString();
    const messages = await this.ctx.store(caller.resource).messagePage(threadId, {
      beforeSequence: options.cursor,
      since,
      upToSequence: participant.removedAtSequence,
      // One more than a page: a page that ends at the last message carries no nextLink.
      limit: options.maxPageSize + 1,
    });
    const page = messages.slice(0, options.maxPageSize);
    const last = page.at(-1);
    return { value: page.map(messageView), next: messages.length > options.maxPageSize && last ? { syncState: String(last.sequence) } : undefined };
  }

  async update(caller: ChatCaller, threadId: string, messageId: string, input: UpdateMessageInput): Promise<void> {
    this.ctx.limit('changeMessage', caller, threadId);
    const { message, recipients } = await this.#ownMessage(caller, threadId, messageId);
    if (message.deletedOn) throw messageNotFound(messageId);
    const now = this.ctx.now();
    const set: Record<string, unknown> = { editedOn: now, version: Date.parse(now) };
    if (input.content !== undefined) set.content = input.content;
    if (input.metadata !== undefined) set.metadata = input.metadata;
    const edited: MessageRecord = { ...message, ...set };
    const transactionId = this.ctx.newTransactionId();
    await this.ctx.commit(caller.resource, {
      transactionId,
      ops: [
        storeOp.patch('chatThreads', threadId, messageItemId(messageId), set, NOT_DELETED),
        storeOp.patch('chatThreads', threadId, threadItemId(threadId), { lastActivityAt: now }),
      ],
      events: messageEvents('edited', edited, transactionId, now),
      recipients,
      // In the thread's partition: the entry is one batch with the change, with the deletions of the
      // entries of sends before it (their text goes with this change).
      entryInThread: threadId,
    });
  }

  /** Deletes a message's content for good; deleting it again changes nothing. */
  async delete(caller: ChatCaller, threadId: string, messageId: string): Promise<void> {
    this.ctx.limit('changeMessage', caller, threadId);
    const { message, recipients } = await this.#ownMessage(caller, threadId, messageId);
    if (message.deletedOn) return;
    const now = this.ctx.now();
    const tombstone: MessageRecord = {
      id: message.id,
      threadId,
      resourceId: message.resourceId,
      kind: 'message',
      messageId,
      type: message.type,
      sequence: message.sequence,
      version: Date.parse(now),
      createdOn: message.createdOn,
      senderId: message.senderId,
      mentions: message.senderId ? [message.senderId] : [],
      deletedOn: now,
    };
    const transactionId = this.ctx.newTransactionId();
    await this.ctx.commit(caller.resource, {
      transactionId,
      ops: [
        storeOp.upsert('chatThreads', threadId, tombstone),
        storeOp.patch('chatThreads', threadId, threadItemId(threadId), { lastActivityAt: now }),
      ],
      events: messageEvents('deleted', { ...message, version: tombstone.version }, transactionId, now),
      recipients,
      entryInThread: threadId,
    });
  }

  /** A text or html message the caller sent, in a thread they are a current participant of. */
  async #ownMessage(caller: ChatCaller, threadId: string, messageId: string): Promise<{ message: MessageRecord; recipients: string[] }> {
    requireScope(caller, 'chat.join.limited');
    const store = this.ctx.store(caller.resource);
    const [active, message] = await Promise.all([store.activeParticipants(threadId), store.message(threadId, messageId)]);
    const participant = active.find((p) => p.identityId === caller.identityId) ?? (await this.ctx.participation(caller, threadId, { current: true }));
    if (!message || !isVisibleTo(participant, message)) throw messageNotFound(messageId);
    if (!isUserMessage(message.type)) throw new ServiceError('Forbidden', 'System messages cannot be edited or deleted.');
    if (message.senderId !== caller.identityId) throw new ServiceError('Forbidden', 'Only the sender of a message can edit or delete it.');
    return { message, recipients: active.map((p) => p.identityId) };
  }
}

function messageNotFound(messageId: string): ServiceError {
  return new ServiceError('NotFound', `Chat message '${messageId}' was not found.`, { target: 'chatMessageId' });
}
