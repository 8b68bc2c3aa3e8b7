import { RestError } from '@azure/core-rest-pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, chatClientFor, createChatUser, identityClient, userRef, type ChatUser } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/** Every Chat API operation through the official @azure/communication-chat 1.6 clients, over HTTPS. */

let stack: TestStack;
let resource: ResourceView;
let alice: ChatUser;
let bob: ChatUser;
let carol: ChatUser;

beforeAll(async () => {
  stack = await startTestStack();
  resource = await stack.createResource('chat-sdk', 'Europe');
  [alice, bob, carol] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource), createChatUser(stack, resource)]);
});
afterAll(async () => stack?.stop());

async function pages<T>(iterable: { byPage(): AsyncIterable<T[]> }): Promise<T[][]> {
  return all(iterable.byPage());
}

async function newThread(topic = 'Planning', participants: ChatUser[] = [bob]): Promise<string> {
  const result = await alice.chat.createChatThread({ topic }, { participants: participants.map((p) => ({ id: userRef(p) })) });
  return result.chatThread!.id;
}

describe('threads', () => {
  it('createChatThread stores topic, participants, metadata and retention policy, and getProperties returns them', async () => {
    const result = await alice.chat.createChatThread(
      { topic: 'Launch' },
      {
        participants: [{ id: userRef(bob), displayName: 'Bob', metadata: { role: 'reviewer' } }],
        metadata: { project: 'x' },
        retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 45 },
      },
    );
    expect(result.invalidParticipants).toBeUndefined();
    const thread = result.chatThread!;
    expect(thread.id).toMatch(/^19:[0-9a-f]{32}@thread\.v2$/);
    const props = await bob.thread(thread.id).getProperties();
    expect(props).toMatchObject({ id: thread.id, topic: 'Launch', metadata: { project: 'x' }, retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 45 } });
    expect(props.createdBy).toEqual({ kind: 'communicationUser', communicationUserId: alice.id });
    const participants = await all(bob.thread(thread.id).listParticipants());
    expect(participants.map((p) => (p.id as { communicationUserId: string }).communicationUserId).sort()).toEqual([alice.id, bob.id].sort());
    expect(participants.find((p) => (p.id as { communicationUserId: string }).communicationUserId === bob.id)).toMatchObject({ displayName: 'Bob', metadata: { role: 'reviewer' } });
  });

  it('the same repeatability-request-id (idempotencyToken) creates one thread', async () => {
    const token = crypto.randomUUID();
    const first = await alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: token });
    const second = await alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: token });
    expect(second.chatThread!.id).toBe(first.chatThread!.id);
    const other = await alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: crypto.randomUUID() });
    expect(other.chatThread!.id).not.toBe(first.chatThread!.id);
    const mine = await all(alice.chat.listChatThreads());
    expect(mine.filter((t) => t.id === first.chatThread!.id)).toHaveLength(1);
  });

  it('reports identities that do not exist as invalidParticipants and adds the rest', async () => {
    const ghost = `8:acs:${resource.id}_00000000-0000-0000-0000-000000000000`;
    const result = await alice.chat.createChatThread({ topic: 'Ghosts' }, { participants: [{ id: userRef(bob) }, { id: { communicationUserId: ghost } }] });
    expect(result.invalidParticipants).toEqual([expect.objectContaining({ code: 'NotFound', target: ghost })]);
    expect(await all(alice.thread(result.chatThread!.id).listParticipants())).toHaveLength(2);
  });

  it('listChatThreads pages over more than one page and honours startTime', async () => {
    const dave = await createChatUser(stack, resource);
    const ids: string[] = [];
    for (const topic of ['t1', 't2', 't3']) ids.push((await alice.chat.createChatThread({ topic }, { participants: [{ id: userRef(dave) }] })).chatThread!.id);
    const byPage = await pages(dave.chat.listChatThreads({ maxPageSize: 2 }));
    expect(byPage.map((p) => p.length)).toEqual([2, 1]);
    expect(byPage.flat().map((t) => t.id)).toEqual([...ids].reverse());
    expect(byPage.flat()[0]).toMatchObject({ topic: 't3' });
    const future = new Date(Date.now() + 3_600_000);
    expect(await all(dave.chat.listChatThreads({ startTime: future }))).toEqual([]);
  });

  it('updateTopic and updateProperties change the thread and add a topicUpdated system message', async () => {
    const threadId = await newThread();
    await bob.thread(threadId).updateTopic('Renamed');
    await alice.thread(threadId).updateProperties({ metadata: { stage: '2' }, retentionPolicy: { kind: 'none' } });
    const props = await alice.thread(threadId).getProperties();
    expect(props).toMatchObject({ topic: 'Renamed', metadata: { stage: '2' }, retentionPolicy: { kind: 'none' } });
    const messages = await all(alice.thread(threadId).listMessages());
    expect(messages[0]).toMatchObject({ type: 'topicUpdated', content: { topic: 'Renamed' } });
    expect(messages.map((m) => m.type)).toEqual(['topicUpdated', 'topicUpdated', 'participantAdded']);
    expect(messages.map((m) => m.sequenceId)).toEqual(['3', '2', '1']);
  });

  it('deleteChatThread removes the thread for everyone', async () => {
    const threadId = await newThread();
    await alice.thread(threadId).sendMessage({ content: 'bye' });
    await bob.chat.deleteChatThread(threadId);
    await expect(alice.thread(threadId).getProperties()).rejects.toMatchObject({ statusCode: 404 });
    await expect(bob.thread(threadId).sendMessage({ content: 'hello?' })).rejects.toMatchObject({ statusCode: 404 });
    expect((await all(alice.chat.listChatThreads())).map((t) => t.id)).not.toContain(threadId);
  });
});

describe('messages', () => {
  it('sendMessage, getMessage, updateMessage and deleteMessage', async () => {
    const threadId = await newThread();
    const { id } = await alice.thread(threadId).sendMessage({ content: '<b>hi</b>' }, { type: 'html', senderDisplayName: 'Alice', metadata: { tag: 'a' } });
    const got = await bob.thread(threadId).getMessage(id);
    expect(got).toMatchObject({ id, type: 'html', sequenceId: '3', senderDisplayName: 'Alice', content: { message: '<b>hi</b>' }, metadata: { tag: 'a' } });
    expect(got.sender).toEqual({ kind: 'communicationUser', communicationUserId: alice.id });
    expect(got.createdOn).toBeInstanceOf(Date);
    // The version is the time of the last change, in epoch milliseconds: here the creation.
    expect(got.version).toBe(String(got.createdOn.getTime()));

    await alice.thread(threadId).updateMessage(id, { content: 'hi (edited)', metadata: { tag: 'b' } });
    const edited = await bob.thread(threadId).getMessage(id);
    expect(edited).toMatchObject({ content: { message: 'hi (edited)' }, metadata: { tag: 'b' } });
    expect(edited.editedOn).toBeInstanceOf(Date);
    expect(Number(edited.version)).toBeGreaterThanOrEqual(Number(got.version));
    expect(edited.version).toBe(String(edited.editedOn!.getTime()));

    await alice.thread(threadId).deleteMessage(id);
    const deleted = await bob.thread(threadId).getMessage(id);
    expect(deleted.deletedOn).toBeInstanceOf(Date);
    expect(deleted.content).toBeUndefined();
    expect(deleted.version).toBe(String(deleted.deletedOn!.getTime()));
    const listed = (await all(bob.thread(threadId).listMessages())).find((m) => m.id === id)!;
    expect(listed.deletedOn).toBeInstanceOf(Date);
    expect(listed.content).toBeUndefined();
  });

  it('listMessages pages newest first over more than one page, with startTime', async () => {
    const threadId = await newThread();
    const sent: string[] = [];
    for (let i = 0; i < 5; i += 1) sent.push((await alice.thread(threadId).sendMessage({ content: `m${i}` })).id);
    const byPage = await pages(bob.thread(threadId).listMessages({ maxPageSize: 3 }));
    expect(byPage.map((p) => p.length)).toEqual([3, 3, 1]);
    const texts = byPage.flat().filter((m) => m.type === 'text').map((m) => m.content?.message);
    expect(texts).toEqual(['m4', 'm3', 'm2', 'm1', 'm0']);
    const sequenceIds = byPage.flat().map((m) => Number(m.sequenceId));
    expect(sequenceIds).toEqual([...sequenceIds].sort((a, b) => b - a));
    const third = await bob.thread(threadId).getMessage(sent[2]!);
    const since = await all(bob.thread(threadId).listMessages({ startTime: third.createdOn }));
    expect(since.every((m) => m.createdOn >= third.createdOn)).toBe(true);
    expect(since.map((m) => m.id)).toContain(sent[4]);
    // Exactly the messages from that instant on, newest first: m4, m3, m2 (and any created in the same millisecond).
    expect(since.map((m) => m.id)).toEqual(byPage.flat().filter((m) => m.createdOn >= third.createdOn).map((m) => m.id));
    expect(since.slice(0, 3).map((m) => m.id)).toEqual([sent[4], sent[3], sent[2]]);
  });

  it('only the sender can edit or delete a message; system messages cannot be', async () => {
    const threadId = await newThread();
    const { id } = await alice.thread(threadId).sendMessage({ content: 'mine' });
    await expect(bob.thread(threadId).updateMessage(id, { content: 'theirs' })).rejects.toMatchObject({ statusCode: 403 });
    await expect(bob.thread(threadId).deleteMessage(id)).rejects.toMatchObject({ statusCode: 403 });
    const system = (await all(alice.thread(threadId).listMessages())).find((m) => m.type === 'participantAdded')!;
    await expect(alice.thread(threadId).deleteMessage(system.id)).rejects.toMatchObject({ statusCode: 403 });
    await expect(alice.thread(threadId).getMessage('1234')).rejects.toMatchObject({ statusCode: 404 });
    expect((await bob.thread(threadId).getMessage(id)).content?.message).toBe('mine');
  });
});

describe('participants, read receipts, typing', () => {
  it('addParticipants, listParticipants with paging and skip, removeParticipant', async () => {
    const threadId = await newThread('Team', []);
    const extra = await Promise.all([1, 2, 3].map(() => createChatUser(stack, resource)));
    const added = await alice.thread(threadId).addParticipants({ participants: [bob, carol, ...extra].map((u) => ({ id: userRef(u), displayName: 'x' })) });
    expect(added.invalidParticipants).toBeUndefined();
    const byPage = await pages(alice.thread(threadId).listParticipants({ maxPageSize: 4 }));
    expect(byPage.map((p) => p.length)).toEqual([4, 2]);
    const skipped = await all(alice.thread(threadId).listParticipants({ skip: 5 }));
    expect(skipped).toHaveLength(1);
    const userIdOf = (p: { id: unknown }) => (p.id as { communicationUserId: string }).communicationUserId;
    // Skip 5 leaves the sixth of the same order.
    expect(skipped.map(userIdOf)).toEqual(byPage.flat().slice(5).map(userIdOf));
    await alice.thread(threadId).removeParticipant(userRef(carol));
    const ids = (await all(alice.thread(threadId).listParticipants())).map((p) => (p.id as { communicationUserId: string }).communicationUserId);
    expect(ids).toHaveLength(5);
    expect(ids).not.toContain(carol.id);
    expect([...ids].sort()).toEqual([alice.id, bob.id, ...extra.map((u) => u.id)].sort());
    const system = await all(alice.thread(threadId).listMessages({ maxPageSize: 2 }));
    expect(system[0]).toMatchObject({ type: 'participantRemoved' });
    expect(system[0]!.content?.participants?.[0]?.id).toEqual({ kind: 'communicationUser', communicationUserId: carol.id });
    expect(system[1]).toMatchObject({ type: 'participantAdded' });
    expect(system[1]!.content?.participants).toHaveLength(5);
    expect(system[1]!.content!.participants!.map(userIdOf).sort()).toEqual([bob.id, carol.id, ...extra.map((u) => u.id)].sort());
  });

  it('sendReadReceipt and listReadReceipts', async () => {
    const threadId = await newThread();
    const first = await alice.thread(threadId).sendMessage({ content: 'one' });
    const second = await alice.thread(threadId).sendMessage({ content: 'two' });
    await bob.thread(threadId).sendReadReceipt({ chatMessageId: second.id });
    await bob.thread(threadId).sendReadReceipt({ chatMessageId: first.id });
    await alice.thread(threadId).sendReadReceipt({ chatMessageId: second.id });
    const receipts = await all(alice.thread(threadId).listReadReceipts());
    expect(receipts).toHaveLength(2);
    // One per reader, the latest message each has read: bob's second receipt (of an older message) did not move his back.
    expect(receipts.map((r) => [(r.sender as { communicationUserId: string }).communicationUserId, r.chatMessageId]).sort()).toEqual(
      [[alice.id, second.id], [bob.id, second.id]].sort(),
    );
    const bobs = receipts.find((r) => (r.sender as { communicationUserId: string }).communicationUserId === bob.id)!;
    expect(bobs.chatMessageId).toBe(second.id);
    expect(bobs.readOn).toBeInstanceOf(Date);
    expect((await pages(alice.thread(threadId).listReadReceipts({ maxPageSize: 1 }))).map((p) => p.length)).toEqual([1, 1]);
    await expect(bob.thread(threadId).sendReadReceipt({ chatMessageId: '999' })).rejects.toMatchObject({ statusCode: 404 });
  });

  it('sendTypingNotification succeeds for a participant and is refused for others', async () => {
    const threadId = await newThread();
    await expect(bob.thread(threadId).sendTypingNotification({ senderDisplayName: 'Bob' })).resolves.toBe(true);
    await expect(carol.thread(threadId).sendTypingNotification()).rejects.toMatchObject({ statusCode: 403 });
  });
});

describe('authentication and authorization', () => {
  it('answers 401 for a token of another resource, a revoked token and a deleted identity', async () => {
    const threadId = await newThread();
    const other = await stack.createResource('chat-sdk-other', 'Europe');
    const stranger = await createChatUser(stack, other);
    // The stranger's client points at our resource's endpoint with a token of the other resource.
    const crossed = chatClientFor(stack, resource, stranger.token);
    await expect(crossed.getChatThreadClient(threadId).getProperties()).rejects.toMatchObject({ statusCode: 401 });
    await expect(all(crossed.listChatThreads())).rejects.toMatchObject({ statusCode: 401 });

    const revoked = await createChatUser(stack, resource);
    await identityClient(stack, resource).revokeTokens(userRef(revoked));
    await expect(all(revoked.chat.listChatThreads())).rejects.toMatchObject({ statusCode: 401 });

    const deleted = await createChatUser(stack, resource);
    await identityClient(stack, resource).deleteUser(userRef(deleted));
    await expect(deleted.chat.createChatThread({ topic: 'x' })).rejects.toMatchObject({ statusCode: 401 });
  });

  it('answers 403 to a caller who is not a participant, and to a token without the needed scope', async () => {
    const threadId = await newThread();
    for (const call of [
      () => carol.thread(threadId).getProperties(),
      () => carol.thread(threadId).sendMessage({ content: 'let me in' }),
      () => all(carol.thread(threadId).listMessages()),
      () => all(carol.thread(threadId).listParticipants()),
      () => carol.thread(threadId).addParticipants({ participants: [{ id: userRef(carol) }] }),
      () => carol.chat.deleteChatThread(threadId),
    ]) {
      await expect(call()).rejects.toMatchObject({ statusCode: 403 });
    }
    const joinOnly = await createChatUser(stack, resource, ['chat.join']);
    const error = await joinOnly.chat.createChatThread({ topic: 'nope' }).catch((e: RestError) => e);
    expect(error).toMatchObject({ statusCode: 403 });
    const voipOnly = await createChatUser(stack, resource, ['voip']);
    await alice.thread(threadId).addParticipants({ participants: [{ id: userRef(voipOnly) }] });
    await expect(voipOnly.thread(threadId).sendMessage({ content: 'x' })).rejects.toMatchObject({ statusCode: 403 });
  });
});
