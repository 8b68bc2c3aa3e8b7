import { identifierModel } from './communication-identifier.js';
import type { ChatRetentionPolicy } from './chat-requests.js';

/**
 * The items of a chat thread's partition (container `chatThreads`, partition key `/threadId`) and of
 * an identity's membership partition (container `chatMemberships`, partition key `/identityId`).
 * Every item carries `resourceId` (residency audit, resource deletion).
 */
/** A chat thread id (`19:{id}@thread.v2`), at most 128 characters (ours are 51). */
export const isThreadId = (value: string): boolean => value.length <= 128 && /^19:[\w-]+(?:\.[\w-]+)*@thread\.v2$/.test(value);

export const threadItemId = (threadId: string) => threadId;
export const participantItemId = (identityId: string) => `p|${identityId}`;
export const messageItemId = (messageId: string) => `m|${messageId}`;
export const receiptItemId = (identityId: string) => `r|${identityId}`;

interface ThreadPartitionItem {
  id: string;
  threadId: string;
  resourceId: string;
}

export interface ThreadRecord extends ThreadPartitionItem {
  kind: 'thread';
  topic: string;
  createdOn: string;
  createdBy: string;
  metadata?: Record<string, string> | null;
  retentionPolicy?: ChatRetentionPolicy | null;
  /** When the thread's own retention policy deletes it (creation + deleteThreadAfterDays), or null. */
  policyExpiresAt?: string | null;
  /**
   * The current participants' ids (at most 250), the authority for the participant cap and for who
   * may send; changed only with `rosterVersion` as the optimistic-concurrency token (see
   * ChatContext.changeRoster). Absent on threads written before it existed, until first needed.
   */
  roster?: string[];
  rosterVersion?: number;
  /** The last sequence id handed out (messages and system messages share it). */
  sequence: number;
  lastMessageReceivedOn?: string | null;
  /** Any message, edit, participant or property change (the retention issue's idle clock). */
  lastActivityAt: string;
  /** Set when deletion starts; the thread is gone for every API from then on. */
  deletedOn?: string | null;
}

export interface ParticipantRecord extends ThreadPartitionItem {
  kind: 'participant';
  identityId: string;
  displayName?: string;
  metadata?: Record<string, string>;
  /** Messages created before this time are not shown to the participant. */
  shareHistoryTime?: string;
  addedOn: string;
  /** Set on removal: the participant keeps seeing messages up to `removedAtSequence`, nothing later. */
  removedOn?: string;
  removedAtSequence?: number;
}

export type StoredMessageType = 'text' | 'html' | 'topicUpdated' | 'participantAdded' | 'participantRemoved';

export interface SystemParticipant {
  identityId: string;
  displayName?: string;
  shareHistoryTime?: string;
  metadata?: Record<string, string>;
}

export interface MessageRecord extends ThreadPartitionItem {
  kind: 'message';
  messageId: string;
  type: StoredMessageType;
  sequence: number;
  /** Last change, in epoch milliseconds (the wire `version`). */
  version: number;
  createdOn: string;
  /** Text and html messages: the sender; system messages: the initiator. */
  senderId?: string;
  senderDisplayName?: string;
  content?: string;
  metadata?: Record<string, string>;
  /** System messages: the topic set, or the participants added or removed. */
  topic?: string;
  participants?: SystemParticipant[];
  /** Every identity a message names (sender, initiator, participants): found when one is deleted. */
  mentions: string[];
  editedOn?: string;
  deletedOn?: string;
}

export interface ReceiptRecord extends ThreadPartitionItem {
  kind: 'receipt';
  identityId: string;
  chatMessageId: string;
  messageSequence: number;
  readOn: string;
}

export interface MembershipRecord {
  id: string;
  identityId: string;
  threadId: string;
  resourceId: string;
  joinedOn: string;
  /** `joinedOn|threadId`: the order a user's threads are listed in (newest first), as one indexed field. */
  sortKey: string;
  removedOn?: string;
}

/**
 * Message ids as ACS has them: digits from the creation time in milliseconds. Three more digits from
 * the sequence id keep ids unique among messages of the same millisecond.
 */
export function messageIdFor(createdOn: string, sequence: number): string {
  return String(Date.parse(createdOn) * 1000 + (sequence % 1000));
}

/** A new message record: ids, kind, version (its creation time) and the identities it names filled in. */
export function newMessageRecord(fields: Omit<MessageRecord, 'id' | 'messageId' | 'mentions' | 'kind' | 'version'>): MessageRecord {
  const messageId = messageIdFor(fields.createdOn, fields.sequence);
  const mentions = [...new Set([...(fields.senderId ? [fields.senderId] : []), ...(fields.participants ?? []).map((p) => p.identityId)])];
  return { ...fields, kind: 'message', version: Date.parse(fields.createdOn), id: messageItemId(messageId), messageId, mentions };
}

/** Stands in for the creator of a thread whose creator's identity was deleted. */
export const deletedIdentityId = (resourceId: string) => `8:acs:${resourceId}_00000000-0000-0000-0000-000000000000`;

export const isUserMessage = (type: StoredMessageType): boolean => type === 'text' || type === 'html';

/** The wire `ChatThreadProperties`. */
/** When a thread-creation-date policy deletes a thread created at `createdOn`; null for none. */
export function policyExpiresAt(createdOn: string, policy: ChatRetentionPolicy | null | undefined): string | null {
  if (!policy || policy.kind !== 'threadCreationDate') return null;
  return new Date(Date.parse(createdOn) + policy.deleteThreadAfterDays * 86_400_000).toISOString();
}

export function threadView(thread: ThreadRecord): Record<string, unknown> {
  return compact({
    id: thread.threadId,
    topic: thread.topic,
    createdOn: thread.createdOn,
    createdByCommunicationIdentifier: identifierModel(thread.createdBy),
    metadata: thread.metadata ?? undefined,
    // As ACS 2025-03-15 answers: a thread without a policy (or whose policy was cleared) reports kind none.
    retentionPolicy: thread.retentionPolicy ?? { kind: 'none' },
  });
}

/** The wire `ChatParticipant`. */
export function participantView(p: Pick<ParticipantRecord, 'identityId' | 'displayName' | 'shareHistoryTime' | 'metadata'>): Record<string, unknown> {
  return compact({
    communicationIdentifier: identifierModel(p.identityId),
    displayName: p.displayName,
    shareHistoryTime: p.shareHistoryTime,
    metadata: p.metadata,
  });
}

/** The wire `ChatMessage`; a deleted message keeps only its envelope and `deletedOn`. */
export function messageView(m: MessageRecord): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: m.messageId,
    type: m.type,
    sequenceId: String(m.sequence),
    version: String(m.version),
    createdOn: m.createdOn,
  };
  if (m.deletedOn) return compact({ ...view, senderCommunicationIdentifier: sender(m), deletedOn: m.deletedOn });
  const content = isUserMessage(m.type)
    ? { message: m.content }
    : compact({
        topic: m.topic,
        participants: m.participants?.map(participantView),
        initiatorCommunicationIdentifier: m.senderId ? identifierModel(m.senderId) : undefined,
      });
  return compact({
    ...view,
    content,
    senderDisplayName: isUserMessage(m.type) ? m.senderDisplayName : undefined,
    senderCommunicationIdentifier: sender(m),
    editedOn: m.editedOn,
    metadata: m.metadata,
  });
}

const sender = (m: MessageRecord) => (isUserMessage(m.type) && m.senderId ? identifierModel(m.senderId) : undefined);

export function receiptView(r: ReceiptRecord): Record<string, unknown> {
  return { senderCommunicationIdentifier: identifierModel(r.identityId), chatMessageId: r.chatMessageId, readOn: r.readOn };
}

/** The wire `ChatThreadItem`. */
export function threadItemView(thread: ThreadRecord): Record<string, unknown> {
  return compact({ id: thread.threadId, topic: thread.topic, lastMessageReceivedOn: thread.lastMessageReceivedOn ?? undefined });
}

function compact(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null));
}
