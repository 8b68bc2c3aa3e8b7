import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../shared/services.js';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/** Chat changes emit the ACS events, thread-level and per recipient, through the outbox to the topic. */

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => stack?.stop());

type Event = { id: string; type: string; subject: string; source: string; data: Record<string, any> };
const ofThread = (threadId: string) =>
  stack.topic!.received().map((r) => r.event as unknown as Event).filter((e) => e.type.startsWith('Microsoft.Communication.Chat') && e.data.threadId === threadId);
const recipients = (events: Event[], type: string) => events.filter((e) => e.type === `Microsoft.Communication.${type}`).map((e) => e.data.recipientCommunicationIdentifier?.rawId).sort();
const count = (events: Event[], type: string) => events.filter((e) => e.type === `Microsoft.Communication.${type}`).length;
function countByType(events: Event[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const type = e.type.replace('Microsoft.Communication.', '');
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

/**
 * Every event `conversation` causes, by type: one thread-level event per change, and one per-recipient
 * event per participant at the time (alice and bob; carol too while she is in the thread; the sender
 * of a message gets none of its own).
 */
const CONVERSATION_EVENTS = {
  ChatThreadCreated: 1, ChatThreadCreatedWithUser: 2,
  ChatMessageReceivedInThread: 1, ChatMessageReceived: 1,
  ChatMessageEditedInThread: 1, ChatMessageEdited: 1,
  ChatMessageDeletedInThread: 1, ChatMessageDeleted: 1,
  ChatThreadPropertiesUpdated: 1, ChatThreadPropertiesUpdatedPerUser: 2,
  ChatThreadParticipantAdded: 1, ChatParticipantAddedToThreadWithUser: 3,
  ChatThreadParticipantRemoved: 1, ChatParticipantRemovedFromThreadWithUser: 3,
  ChatThreadDeleted: 1, ChatThreadWithUserDeleted: 2,
};

async function conversation(resource: ResourceView): Promise<{ threadId: string; alice: ChatUser; bob: ChatUser; carol: ChatUser }> {
  const [alice, bob, carol] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource), createChatUser(stack, resource)]);
  const threadId = (await alice.chat.createChatThread({ topic: 'Secret topic' }, { participants: [{ id: userRef(bob), displayName: 'Bob Secret' }] })).chatThread!.id;
  const { id } = await alice.thread(threadId).sendMessage({ content: 'secret words' }, { senderDisplayName: 'Alice Secret' });
  await alice.thread(threadId).updateMessage(id, { content: 'edited secret words' });
  await alice.thread(threadId).deleteMessage(id);
  await bob.thread(threadId).updateTopic('New secret topic');
  await bob.thread(threadId).addParticipants({ participants: [{ id: userRef(carol), displayName: 'Carol Secret' }] });
  await bob.thread(threadId).removeParticipant(userRef(carol));
  await alice.chat.deleteChatThread(threadId);
  return { threadId, alice, bob, carol };
}

describe('chat events', () => {
  it('every change emits its thread-level event and one per-recipient event per participant, in the ACS shapes', async () => {
    const resource = await stack.createResource('chat-events', 'Europe');
    const { threadId, alice, bob, carol } = await conversation(resource);
    const events = ofThread(threadId);
    const both = [alice.id, bob.id].sort();
    const all3 = [alice.id, bob.id, carol.id].sort();

    expect(count(events, 'ChatThreadCreated')).toBe(1);
    expect(recipients(events, 'ChatThreadCreatedWithUser')).toEqual(both);
    expect(count(events, 'ChatMessageReceivedInThread')).toBe(1);
    expect(recipients(events, 'ChatMessageReceived')).toEqual([bob.id]);
    expect(recipients(events, 'ChatMessageEdited')).toEqual([bob.id]);
    expect(recipients(events, 'ChatMessageDeleted')).toEqual([bob.id]);
    expect(recipients(events, 'ChatThreadPropertiesUpdatedPerUser')).toEqual(both);
    expect(count(events, 'ChatThreadParticipantAdded')).toBe(1);
    expect(recipients(events, 'ChatParticipantAddedToThreadWithUser')).toEqual(all3);
    expect(recipients(events, 'ChatParticipantRemovedFromThreadWithUser')).toEqual(all3);
    expect(recipients(events, 'ChatThreadWithUserDeleted')).toEqual(both);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(countByType(events)).toEqual(CONVERSATION_EVENTS);

    const received = events.find((e) => e.type === 'Microsoft.Communication.ChatMessageReceived')!;
    expect(received.subject).toBe(`thread/${threadId}/sender/${alice.id}/recipient/${bob.id}`);
    expect(received.source).toBe(`/resources/${resource.id}`);
    expect(received.data).toMatchObject({
      threadId,
      messageBody: 'secret words',
      senderDisplayName: 'Alice Secret',
      type: 'Text',
      senderCommunicationIdentifier: { rawId: alice.id, communicationUser: { id: alice.id } },
      recipientCommunicationIdentifier: { rawId: bob.id, communicationUser: { id: bob.id } },
      transactionId: expect.any(String),
      version: expect.any(Number),
      composeTime: expect.any(String),
      metadata: {},
    });
    const created = events.find((e) => e.type === 'Microsoft.Communication.ChatThreadCreated')!;
    expect(created.subject).toBe(`thread/${threadId}/createdBy/${alice.id}`);
    expect(created.data).toMatchObject({ properties: { topic: 'Secret topic' }, createdByCommunicationIdentifier: { rawId: alice.id } });
    expect(created.data.participants.map((p: any) => p.participantCommunicationIdentifier.rawId).sort()).toEqual(both);
    const deleted = events.find((e) => e.type === 'Microsoft.Communication.ChatMessageDeletedInThread')!;
    expect(deleted.data).toMatchObject({ deleteTime: expect.any(String), messageId: received.data.messageId });
    expect(deleted.data).not.toHaveProperty('messageBody');
    expect(events.find((e) => e.type === 'Microsoft.Communication.ChatThreadPropertiesUpdated')!.data.properties).toEqual({ topic: 'New secret topic' });
  });

  it('minimal payloads leave out message text, topics and display names', async () => {
    const resource = await stack.createResource('chat-events-minimal', 'Europe', { eventPayloads: 'minimal' });
    const { threadId } = await conversation(resource);
    const events = ofThread(threadId);
    // The same events as with full payloads, only with less in them.
    expect(events).toHaveLength(23);
    expect(countByType(events)).toEqual(CONVERSATION_EVENTS);
    const text = JSON.stringify(events);
    expect(text).not.toMatch(/secret/i);
    expect(events.find((e) => e.type === 'Microsoft.Communication.ChatMessageReceived')!.data).toMatchObject({
      messageId: expect.any(String),
      recipientCommunicationIdentifier: expect.any(Object),
    });
  });

  it('deleting the resource removes its chat data from the geography', async () => {
    const resource = await stack.createResource('chat-events-gone', 'Europe');
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'bye' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    await bob.thread(threadId).sendMessage({ content: 'hello' });
    const deleted = await stack.management('DELETE', '/api/management/resources/chat-events-gone');
    expect(deleted.status).toBe(200);
    expect(deleted.body.removed.cosmos.chatThreads).toBe(6);
    expect(deleted.body.removed.cosmos.chatMemberships).toBe(2);
    expect(deleted.body.removed).toEqual({
      cosmos: {
        // ResourceCreated and the thread's creation (bob's message's entry was in the thread's
        // partition, deleted once published: the deletion writes the marks waiting first).
        outbox: 2,
        identities: 2,
        // The thread, its 2 participants, its 2 system messages (participantAdded, topicUpdated) and bob's message.
        chatThreads: 6,
        chatMemberships: 2,
        recordings: 0,
        auditRecords: 0,
        legalHolds: 0,
        // 2 identities created, the thread created, the message sent.
        operationLogs: 4,
        privacyRequests: 0,
        erasureReceipts: 0,
        phoneNumberRecords: 0,
        smsRecords: 0,
        emailDomains: 0,
        emailOperations: 0,
        emailSuppressions: 0,
        messageChannels: 0,
        messageRecords: 0,
      },
      blobs: {},
    });
    expect(deleted.body.eventsAwaitingPublication).toBe(0);
  });
});

describe('a chat send and its events', () => {
  it('answers only once its events are published; its operation log record is written meanwhile, beside the publish', async () => {
    const resource = await stack.createResource('send-publish', 'Europe');
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'Held' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    const logs = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } }).database('acs-europe').container('operationLogs');
    const sends = async () =>
      (await logs.items.query<number>({ query: "SELECT VALUE COUNT(1) FROM c WHERE c.resourceId = @r AND c.operation = 'SendChatMessage'", parameters: [{ name: '@r', value: resource.id }] }).fetchAll()).resources[0];
    const publisher = services().publisher;
    const publish = publisher.publish.bind(publisher);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const publishing = new Promise<void>((resolve) => (started = resolve));
    publisher.publish = async (...args) => {
      if (args[1].some((e) => e.data.threadId === threadId && e.type.endsWith('ChatMessageReceivedInThread'))) {
        started();
        await held;
      }
      return publish(...args);
    };
    try {
      let answered = false;
      const send = alice.thread(threadId).sendMessage({ content: 'held' }).then((result) => ((answered = true), result));
      await publishing;
      // The log record is written while the publish is held, and the caller has no answer yet.
      for (let tries = 0; (await sends()) === 0 && tries < 100; tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await sends()).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answered).toBe(false);
      expect(ofThread(threadId).filter((e) => e.type.endsWith('ChatMessageReceivedInThread'))).toEqual([]);
      release();
      const { id } = await send;
      // Answered once the topic had the events.
      expect(ofThread(threadId).filter((e) => e.type.endsWith('ChatMessageReceivedInThread')).map((e) => e.data.messageId)).toEqual([id]);
    } finally {
      release();
      publisher.publish = publish;
    }
  });
});
