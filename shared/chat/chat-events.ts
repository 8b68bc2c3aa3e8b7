import type { EventDraft } from '../events/event-record.js';
import { identifierModel } from './communication-identifier.js';
import { isUserMessage, type MessageRecord, type ThreadRecord } from './chat-records.js';

/**
 * The ACS chat events (Microsoft.Communication.*), in the shapes of @azure/eventgrid 5.12 and the
 * ACS samples: a thread-level event and a per-recipient variant ("...WithUser", "ChatMessage...")
 * for each change. Per-recipient events go to the change's recipients (see expandRecipients).
 */
export const CHAT_EVENT = {
  messageReceived: 'Microsoft.Communication.ChatMessageReceived',
  messageReceivedInThread: 'Microsoft.Communication.ChatMessageReceivedInThread',
  messageEdited: 'Microsoft.Communication.ChatMessageEdited',
  messageEditedInThread: 'Microsoft.Communication.ChatMessageEditedInThread',
  messageDeleted: 'Microsoft.Communication.ChatMessageDeleted',
  messageDeletedInThread: 'Microsoft.Communication.ChatMessageDeletedInThread',
  threadCreated: 'Microsoft.Communication.ChatThreadCreated',
  threadCreatedWithUser: 'Microsoft.Communication.ChatThreadCreatedWithUser',
  threadDeleted: 'Microsoft.Communication.ChatThreadDeleted',
  threadWithUserDeleted: 'Microsoft.Communication.ChatThreadWithUserDeleted',
  threadPropertiesUpdated: 'Microsoft.Communication.ChatThreadPropertiesUpdated',
  threadPropertiesUpdatedPerUser: 'Microsoft.Communication.ChatThreadPropertiesUpdatedPerUser',
  participantAdded: 'Microsoft.Communication.ChatThreadParticipantAdded',
  participantAddedWithUser: 'Microsoft.Communication.ChatParticipantAddedToThreadWithUser',
  participantRemoved: 'Microsoft.Communication.ChatThreadParticipantRemoved',
  participantRemovedWithUser: 'Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser',
} as const;

export interface EventParticipant {
  identityId: string;
  displayName?: string;
  metadata?: Record<string, string>;
}

const epochMs = (iso: string) => Date.parse(iso);
const eventMessageType = (type: MessageRecord['type']) => (type === 'html' ? 'Html' : 'Text');

function participantData(p: EventParticipant): Record<string, unknown> {
  return { displayName: p.displayName, participantCommunicationIdentifier: identifierModel(p.identityId), metadata: p.metadata ?? {} };
}

/** A thread-level event and its per-recipient variant. */
function pair(threadType: string, userType: string, subject: string, data: Record<string, unknown>, exclude?: string[]): EventDraft[] {
  return [
    { type: threadType, subject, data },
    { type: userType, subject, data, perRecipient: exclude ? { exclude } : {} },
  ];
}

export function messageEvents(
  change: 'received' | 'edited' | 'deleted',
  message: MessageRecord,
  transactionId: string,
  at: string,
): EventDraft[] {
  if (!isUserMessage(message.type) || !message.senderId) return [];
  const base: Record<string, unknown> = {
    transactionId,
    threadId: message.threadId,
    messageId: message.messageId,
    senderCommunicationIdentifier: identifierModel(message.senderId),
    senderDisplayName: message.senderDisplayName,
    composeTime: message.createdOn,
    type: eventMessageType(message.type),
    version: message.version,
  };
  const subject = `thread/${message.threadId}/sender/${message.senderId}`;
  const exclude = [message.senderId];
  if (change === 'deleted') {
    return pair(CHAT_EVENT.messageDeletedInThread, CHAT_EVENT.messageDeleted, subject, { ...base, deleteTime: at }, exclude);
  }
  const withContent = { ...base, messageBody: message.content ?? '', metadata: message.metadata ?? {} };
  if (change === 'edited') {
    return pair(CHAT_EVENT.messageEditedInThread, CHAT_EVENT.messageEdited, subject, { ...withContent, editTime: at }, exclude);
  }
  return pair(CHAT_EVENT.messageReceivedInThread, CHAT_EVENT.messageReceived, subject, withContent, exclude);
}

function threadBase(thread: ThreadRecord, transactionId: string, at: string): Record<string, unknown> {
  return { transactionId, threadId: thread.threadId, createTime: thread.createdOn, version: epochMs(at) };
}

export function threadCreatedEvents(thread: ThreadRecord, participants: EventParticipant[], transactionId: string): EventDraft[] {
  return pair(CHAT_EVENT.threadCreated, CHAT_EVENT.threadCreatedWithUser, `thread/${thread.threadId}/createdBy/${thread.createdBy}`, {
    ...threadBase(thread, transactionId, thread.createdOn),
    createdByCommunicationIdentifier: identifierModel(thread.createdBy),
    properties: { topic: thread.topic },
    metadata: thread.metadata ?? {},
    participants: participants.map(participantData),
  });
}

export function threadPropertiesUpdatedEvents(thread: ThreadRecord, editedBy: string, transactionId: string, at: string): EventDraft[] {
  return pair(CHAT_EVENT.threadPropertiesUpdated, CHAT_EVENT.threadPropertiesUpdatedPerUser, `thread/${thread.threadId}/editedBy/${editedBy}`, {
    ...threadBase(thread, transactionId, at),
    editedByCommunicationIdentifier: identifierModel(editedBy),
    editTime: at,
    properties: { topic: thread.topic },
    metadata: thread.metadata ?? {},
  });
}

/** `deletedBy` is absent when the system deletes the thread (retention). */
export function threadDeletedEvents(thread: ThreadRecord, deletedBy: string | undefined, transactionId: string, at: string): EventDraft[] {
  return pair(CHAT_EVENT.threadDeleted, CHAT_EVENT.threadWithUserDeleted, `thread/${thread.threadId}/deletedBy/${deletedBy ?? 'system'}`, {
    ...threadBase(thread, transactionId, at),
    ...(deletedBy ? { deletedByCommunicationIdentifier: identifierModel(deletedBy) } : {}),
    deleteTime: at,
  });
}

export function participantAddedEvents(thread: ThreadRecord, addedBy: string, participant: EventParticipant, transactionId: string, at: string): EventDraft[] {
  const data = {
    ...threadBase(thread, transactionId, at),
    time: at,
    addedByCommunicationIdentifier: identifierModel(addedBy),
    participantAdded: participantData(participant),
  };
  return [
    { type: CHAT_EVENT.participantAdded, subject: `thread/${thread.threadId}/participantadded/${participant.identityId}`, data },
    { type: CHAT_EVENT.participantAddedWithUser, subject: `thread/${thread.threadId}/participantAdded/${participant.identityId}`, data, perRecipient: {} },
  ];
}

/** `removedBy` is absent when the participant's identity was deleted. */
export function participantRemovedEvents(
  thread: ThreadRecord,
  removedBy: string | undefined,
  participant: EventParticipant,
  transactionId: string,
  at: string,
): EventDraft[] {
  const data = {
    ...threadBase(thread, transactionId, at),
    time: at,
    ...(removedBy ? { removedByCommunicationIdentifier: identifierModel(removedBy) } : {}),
    participantRemoved: participantData(participant),
  };
  return [
    { type: CHAT_EVENT.participantRemoved, subject: `thread/${thread.threadId}/participantremoved/${participant.identityId}`, data },
    { type: CHAT_EVENT.participantRemovedWithUser, subject: `thread/${thread.threadId}/participantRemoved/${participant.identityId}`, data, perRecipient: {} },
  ];
}
