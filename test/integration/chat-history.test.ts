import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { all, createChatUser, identityClient, userRef, type ChatUser } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { writeMarks } from '../support/outbox-marks.js';

/** The documented ACS chat rules, driven through the official client, checked down to the store. */

let stack: TestStack;
let resource: ResourceView;
const clock = new ManualClock(new Date());
const tick = () => clock.advance(1000);

beforeAll(async () => {
  stack = await startTestStack({ clock });
  resource = await stack.createResource('chat-history', 'Europe');
});
afterAll(async () => stack?.stop());

const texts = async (user: ChatUser, threadId: string) =>
  (await all(user.thread(threadId).listMessages())).filter((m) => m.type === 'text').map((m) => m.content?.message);

const events = (type: string) => stack.topic!.received().map((r) => r.event as { type: string; subject: string; data: Record<string, any> }).filter((e) => e.type === type);

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });

function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** The event types of a published outbox entry, in order, as one text. */
const eventTypesOf = (entry: { events: { type: string }[] }) => entry.events.map((e) => e.type.replace('Microsoft.Communication.', '')).join(',');

/** Every item in every container of the Europe database, as JSON text. */
async function everythingStored(): Promise<string[]> {
  const database = cosmos().database('acs-europe');
  const { resources: containers } = await database.containers.readAll().fetchAll();
  const texts: string[] = [];
  for (const { id } of containers) {
    const { resources } = await database.container(id).items.query('SELECT * FROM c').fetchAll();
    texts.push(...resources.map((r) => JSON.stringify(r)));
  }
  return texts;
}

describe('a removed participant (three users, messages before and after the removal)', () => {
  let alice: ChatUser;
  let bob: ChatUser;
  let carol: ChatUser;
  let threadId: string;
  const ids: Record<string, string> = {};
  // The set-up ticks the shared clock to order its messages; the other blocks start from where it was.
  let setUpStart: Date;
  afterAll(() => clock.set(setUpStart));

  beforeAll(async () => {
    setUpStart = clock.now();
    [alice, bob, carol] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource), createChatUser(stack, resource)]);
    threadId = (await alice.chat.createChatThread({ topic: 'Three' }, { participants: [{ id: userRef(bob) }, { id: userRef(carol) }] })).chatThread!.id;
    for (const [name, who] of [['before-1', alice], ['before-2', carol]] as const) {
      tick();
      ids[name] = (await who.thread(threadId).sendMessage({ content: name })).id;
    }
    tick();
    await alice.thread(threadId).removeParticipant(userRef(carol));
    for (const [name, who] of [['after-1', alice], ['after-2', bob]] as const) {
      tick();
      ids[name] = (await who.thread(threadId).sendMessage({ content: name })).id;
    }
  });

  it('lists and gets the messages up to the removal and nothing after', async () => {
    expect(await texts(carol, threadId)).toEqual(['before-2', 'before-1']);
    const carolsView = await all(carol.thread(threadId).listMessages());
    expect(carolsView[0]).toMatchObject({ type: 'participantRemoved' });
    expect((await carol.thread(threadId).getMessage(ids['before-1']!)).content?.message).toBe('before-1');
    await expect(carol.thread(threadId).getMessage(ids['after-1']!)).rejects.toMatchObject({ statusCode: 404 });
    expect(await texts(bob, threadId)).toEqual(['after-2', 'after-1', 'before-2', 'before-1']);
  });

  it('cannot send (403), nor list participants or send receipts', async () => {
    await expect(carol.thread(threadId).sendMessage({ content: 'still here?' })).rejects.toMatchObject({ statusCode: 403 });
    await expect(all(carol.thread(threadId).listParticipants())).rejects.toMatchObject({ statusCode: 403 });
    await expect(carol.thread(threadId).sendReadReceipt({ chatMessageId: ids['before-1']! })).rejects.toMatchObject({ statusCode: 403 });
  });

  it('receives no per-user events for the thread after the removal', async () => {
    const received = events('Microsoft.Communication.ChatMessageReceived').filter((e) => e.data.threadId === threadId);
    const to = (messageId: string) => received.filter((e) => e.data.messageId === messageId).map((e) => e.data.recipientCommunicationIdentifier.rawId).sort();
    expect(to(ids['before-1']!)).toEqual([bob.id, carol.id].sort());
    expect(to(ids['after-1']!)).toEqual([bob.id]);
    expect(to(ids['after-2']!)).toEqual([alice.id]);
    const removal = events('Microsoft.Communication.ChatParticipantRemovedFromThreadWithUser').filter((e) => e.data.threadId === threadId);
    expect(removal.map((e) => e.data.recipientCommunicationIdentifier.rawId).sort()).toEqual([alice.id, bob.id, carol.id].sort());
    expect(removal[0]!.subject).toBe(`thread/${threadId}/participantRemoved/${carol.id}/recipient/${removal[0]!.data.recipientCommunicationIdentifier.rawId}`);
  });

  it('a participant added with shareHistoryTime sees messages from that time on', async () => {
    const dave = await createChatUser(stack, resource);
    const after1 = await bob.thread(threadId).getMessage(ids['after-1']!);
    await bob.thread(threadId).addParticipants({ participants: [{ id: userRef(dave), shareHistoryTime: after1.createdOn }] });
    expect(await texts(dave, threadId)).toEqual(['after-2', 'after-1']);
    await expect(dave.thread(threadId).getMessage(ids['before-1']!)).rejects.toMatchObject({ statusCode: 404 });
    const erin = await createChatUser(stack, resource);
    await bob.thread(threadId).addParticipants({ participants: [{ id: userRef(erin) }] });
    expect(await texts(erin, threadId)).toEqual(['after-2', 'after-1', 'before-2', 'before-1']);
  });
});

describe('content removal reaches the store', () => {
  it('deleted and edited message text is gone from every Cosmos item, the outbox included', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'Secrets' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    const edited = await alice.thread(threadId).sendMessage({ content: 'first draft SECRET-EDIT-7f3a' }, { metadata: { note: 'META-EDIT-91b2' } });
    const deleted = await alice.thread(threadId).sendMessage({ content: 'to be deleted SECRET-DEL-c41d' }, { senderDisplayName: 'NAME-DEL-55e0' });
    // Before the edit the text is in the message item only (a published outbox entry keeps no content).
    const beforeEdit = (await everythingStored()).filter((t) => t.includes('SECRET-EDIT-7f3a')).map((t) => JSON.parse(t));
    expect(beforeEdit.map((i) => [i.kind, i.messageId])).toEqual([['message', edited.id]]);

    await alice.thread(threadId).updateMessage(edited.id, { content: 'final text', metadata: { note: 'clean' } });
    await alice.thread(threadId).deleteMessage(deleted.id);

    const stored = await everythingStored();
    for (const marker of ['SECRET-EDIT-7f3a', 'META-EDIT-91b2', 'SECRET-DEL-c41d', 'NAME-DEL-55e0']) {
      expect(stored.filter((t) => t.includes(marker))).toEqual([]);
    }
    const tombstone = stored.map((t) => JSON.parse(t)).find((i) => i.kind === 'message' && i.messageId === deleted.id);
    expect(tombstone).toMatchObject({ deletedOn: expect.any(String), senderId: alice.id });
    expect(tombstone).not.toHaveProperty('content');
    expect(stored.filter((t) => t.includes('final text')).map((t) => JSON.parse(t)).map((i) => [i.kind, i.messageId])).toEqual([['message', edited.id]]);
  });

  it('deleting a thread removes every message, participant, membership and read receipt of it', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'Doomed' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    const { id } = await alice.thread(threadId).sendMessage({ content: 'doomed' });
    await bob.thread(threadId).sendReadReceipt({ chatMessageId: id });
    await alice.chat.deleteChatThread(threadId);
    const stored = (await everythingStored()).map((t) => JSON.parse(t));
    const left = stored.filter((i) => i.threadId === threadId);
    expect(left).toEqual([]);
    // What still names the thread is exactly the published outbox entries of its changes in the
    // outbox: ids and shapes, no content. The send's entry was in the thread's partition, and went
    // before the thread did (the deletion writes the thread's marks first).
    const naming = stored.filter((i) => JSON.stringify(i).includes(threadId));
    for (const entry of naming) expect(entry).toMatchObject({ status: 'published', ops: [] });
    expect(naming.map(eventTypesOf).sort()).toEqual(['ChatThreadCreated,ChatThreadCreatedWithUser', 'ChatThreadDeleted,ChatThreadWithUserDeleted']);
    expect(JSON.stringify(naming)).not.toMatch(/doomed/i);
    const deletedEvents = events('Microsoft.Communication.ChatThreadWithUserDeleted').filter((e) => e.data.threadId === threadId);
    expect(deletedEvents.map((e) => e.data.recipientCommunicationIdentifier.rawId).sort()).toEqual([alice.id, bob.id].sort());
  });
});

describe('an interrupted thread deletion', () => {
  it('is gone for the API at once, and the sweep timer removes what was left', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'Half' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    for (let i = 0; i < 3; i += 1) await bob.thread(threadId).sendMessage({ content: `left behind ${i}` });
    // The sends' outbox entries, deleted once their marks are written (within OUTBOX_MARK_DELAY_MS).
    await writeMarks();
    // Step 1 of a deletion, as if the process died right after it: the thread is marked, participants gone.
    const container = cosmos().database('acs-europe').container('chatThreads');
    await container.item(threadId, threadId).patch([{ op: 'set', path: '/deletedOn', value: clock.now().toISOString() }]);
    for (const user of [alice, bob]) await container.item(`p|${user.id}`, threadId).delete();
    await expect(alice.thread(threadId).getProperties()).rejects.toMatchObject({ statusCode: 404 });
    await expect(all(bob.thread(threadId).listMessages())).rejects.toMatchObject({ statusCode: 404 });

    const inThread = async () => (await container.items.query({ query: 'SELECT c.id FROM c WHERE c.threadId = @t', parameters: [{ name: '@t', value: threadId }] }).fetchAll()).resources;
    const sweep = async () => {
      const response = await fetch(`${stack.httpUrl}/admin/functions/chatDeletionSweep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(response.status).toBe(202);
    };
    // Left behind: the thread item, its 2 system messages (participantAdded, topicUpdated) and bob's 3 messages.
    const leftBehind = (await inThread()).map((i) => i.id).sort();
    expect(leftBehind).toHaveLength(1 + 2 + 3);
    expect(leftBehind).toContain(threadId);
    // A sweep within the deletion's grace period leaves all of it (a deletion may still be under way).
    await sweep();
    expect((await inThread()).map((i) => i.id).sort()).toEqual(leftBehind);
    const start = clock.now();
    try {
      clock.advance(6 * 60_000);
      await sweep();
      expect(await inThread()).toEqual([]);
    } finally {
      clock.set(start);
    }
  });
});

describe('deleting an identity', () => {
  it('deletes its messages in every thread of the resource and removes it from them', async () => {
    const [alice, bob, mallory] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threads: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const creator = i === 2 ? mallory : alice;
      const others = i === 2 ? [alice, bob] : [bob, mallory];
      threads.push((await creator.chat.createChatThread({ topic: `t${i}` }, { participants: others.map((u) => ({ id: userRef(u) })) })).chatThread!.id);
    }
    const start = clock.now();
    try {
      for (const threadId of threads) {
        tick();
        await mallory.thread(threadId).sendMessage({ content: `MALLORY-${threadId}` });
        await bob.thread(threadId).sendMessage({ content: `bob keeps this ${threadId}` });
      }
      const removedEventsBefore = events('Microsoft.Communication.ChatThreadParticipantRemoved').length;

      await identityClient(stack, resource).deleteUser(userRef(mallory));

      const stored = await everythingStored();
      expect(stored.filter((t) => t.includes('MALLORY-'))).toEqual([]);
      // What still names her is exactly the operation log records of what she took part in (kept for logDays, or
      // until a data subject request) and the published outbox entries of those changes (ids and shapes, no content)
      // in the outbox; the sends' entries were in the threads' partitions, deleted once published (the
      // deletion writes the marks waiting first).
      const namingMallory = stored.filter((t) => t.includes(mallory.id)).map((t) => JSON.parse(t));
      const logRecords = namingMallory.filter((i) => i.kind === 'operationLog');
      const published = namingMallory.filter((i) => i.kind === undefined && i.status === 'published');
      expect(namingMallory.filter((i) => !logRecords.includes(i) && !published.includes(i)).map((i) => JSON.stringify(i).slice(0, 400))).toEqual([]);
      expect(countBy(logRecords, (r) => r.operation)).toEqual({ CreateIdentity: 1, CreateChatThread: 3, SendChatMessage: 3, DeleteIdentity: 1 });
      for (const entry of published) expect(entry.ops).toEqual([]);
      // The 3 threads' creations and her 3 removals.
      expect(countBy(published, eventTypesOf)).toEqual({
        'ChatThreadCreated,ChatThreadCreatedWithUser': 3,
        'ChatThreadParticipantRemoved,ChatParticipantRemovedFromThreadWithUser': 3,
      });
      for (const threadId of threads) {
        expect(await texts(alice, threadId)).toEqual([`bob keeps this ${threadId}`]);
        const participants = (await all(alice.thread(threadId).listParticipants())).map((p) => (p.id as { communicationUserId: string }).communicationUserId);
        expect(participants.sort()).toEqual([alice.id, bob.id].sort());
      }
      const removed = events('Microsoft.Communication.ChatThreadParticipantRemoved').slice(removedEventsBefore);
      expect(removed.map((e) => e.data.threadId).sort()).toEqual([...threads].sort());
      expect(removed.every((e) => e.data.participantRemoved.participantCommunicationIdentifier.rawId === mallory.id && !e.data.removedByCommunicationIdentifier)).toBe(true);
    } finally {
      clock.set(start);
    }
  });
});

describe('tokens', () => {
  it('an expired token answers 401', async () => {
    const alice = await createChatUser(stack, resource);
    await expect(all(alice.chat.listChatThreads())).resolves.toEqual([]);
    const start = clock.now();
    clock.advance(25 * 3_600_000);
    try {
      await expect(all(alice.chat.listChatThreads())).rejects.toMatchObject({ statusCode: 401 });
    } finally {
      clock.set(start);
    }
  });
});
