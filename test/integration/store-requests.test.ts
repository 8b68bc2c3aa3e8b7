import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatStore } from '../../shared/chat/chat-store.js';
import { stableId } from '../../shared/events/event-record.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import { deleteInPartition } from '../../shared/stores/cosmos-batch.js';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { QUIET_STORES_ENV, startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * What the common operations cost in store requests, counted at the embedded Cosmos server (a
 * transactional batch is one request, a query two: the SDK asks for a query plan first), and that
 * the fewer requests keep every promise: what is stored, the events, the audit record, reruns.
 *
 * The timers the settings schedule never run here; the chat deletion sweep (every 5 minutes) is
 * kept out of the counted windows.
 */
let stack: TestStack;
let view: ResourceView;
let resource: Resource;

beforeAll(async () => {
  // The resource cache is kept longer than its default 5 s here, so that waiting out the chat deletion
  // sweep (below) does not empty it; the test that needs it empty empties it.
  // Publication marks are written only with the next change or when the test flushes them (never by
  // their timer in a counted window).
  stack = await startTestStack({ env: { ...QUIET_STORES_ENV, RESOURCE_CACHE_MS: '60000', OUTBOX_MARK_DELAY_MS: '60000' } });
  view = await stack.createResource('store-requests', 'Europe');
  resource = await services().resources.get('store-requests');
  // Containers are created on first use (locally): before any counting.
  for (const name of ['chatThreads', 'chatMemberships', 'auditRecords', 'outbox', 'operationLogs'] as const) await europe().container(name);
});
afterAll(async () => stack?.stop());

const europe = () => services().stores.forGeography(geographyByKey('europe'));
const container = (name: 'chatThreads' | 'chatMemberships' | 'auditRecords' | 'outbox') => europe().container(name);
const partition = async (threadId: string) =>
  (await (await container('chatThreads')).items.query<{ id: string; kind: string; deletedOn?: string }>('SELECT c.id, c.kind, c.deletedOn FROM c', { partitionKey: threadId }).fetchAll()).resources;
const membership = async (identityId: string, threadId: string) => (await (await container('chatMemberships')).item(threadId, identityId).read()).resource;
type Event = { id: string; type: string; subject: string; data: Record<string, unknown> };
/** The outbox entries of a sent message: in its thread's partition (none in the outbox), until deleted once published. */
const entriesOf = async (threadId: string, messageId: string) => {
  const query = { query: 'SELECT * FROM c WHERE c.events[0].data.messageId = @m', parameters: [{ name: '@m', value: messageId }] };
  const outboxEntries = (await (await container('outbox')).items.query(query).fetchAll()).resources;
  expect(outboxEntries).toEqual([]);
  return (await (await container('chatThreads')).items.query<{ id: string; kind: string; status: string; ops: unknown[]; events: { data: Record<string, unknown> }[] }>(query, { partitionKey: threadId }).fetchAll()).resources;
};
/** Writes the publication marks sends left (they are written with the next send, or after 100 ms). */
const flushMarks = () => services().outboxFor(europe()).flushMarks();
const threadEvents = (threadId: string) => stack.topic!.received().map((r) => r.event as unknown as Event).filter((e) => e.data.threadId === threadId);

/**
 * Store requests `work` makes; waits first while the chat deletion sweep (every 5 minutes, on the
 * minute) could run, and writes the publication marks earlier sends left, unless `marks` is 'keep'
 * (then they wait: for the batch of the work's first outbox entry, or the work's own flush).
 */
async function storeRequests<T>(work: () => Promise<T>, marks: 'flush' | 'keep' = 'flush'): Promise<{ requests: number; result: T }> {
  const untilSweep = 300_000 - (Date.now() % 300_000);
  if (untilSweep < 5_000 || untilSweep > 297_000) await new Promise((resolve) => setTimeout(resolve, untilSweep < 5_000 ? untilSweep + 3_000 : untilSweep - 297_000 + 100));
  if (marks === 'flush') await flushMarks();
  const before = stack.cosmosRequests!();
  const result = await work();
  return { requests: stack.cosmosRequests!() - before, result };
}

/** A thread with `messages` messages from alice, their entries deleted (their marks written). */
async function threadWith(alice: ChatUser, bob: ChatUser, messages: number): Promise<string> {
  const { chatThread } = await alice.chat.createChatThread({ topic: 'counted' }, { participants: [{ id: userRef(bob) }] });
  const threadId = chatThread!.id;
  for (let i = 0; i < messages; i += 1) await alice.thread(threadId).sendMessage({ content: `message ${i}` });
  await flushMarks();
  return threadId;
}

describe('a chat send', () => {
  it('is 5 store requests, with the roster from the sequence patch: the message is stored and announced to the other participants', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 1);
    const { sequence } = (await new ChatStore(europe()).thread(threadId))!;
    // The token's revocation read, the sequence patch (the roster check, answering the recipients),
    // one transactional batch creating the outbox entry in the thread's partition with the message,
    // the post-write identity check and the operation log record; the resource comes from this
    // instance's cache (the thread's creation read it), and the entry's deletion is written later (below).
    const { requests, result } = await storeRequests(() => alice.thread(threadId).sendMessage({ content: 'counted' }));
    expect(requests).toBe(5);
    const { resource: stored } = await (await container('chatThreads')).item(`m|${result.id}`, threadId).read<{ content: string; sequence: number }>();
    expect(stored).toMatchObject({ content: 'counted', sequence: sequence + 1 });
    const received = threadEvents(threadId).filter((e) => e.type === 'Microsoft.Communication.ChatMessageReceived' && e.data.messageId === result.id);
    // ChatMessageReceived goes to every participant but the sender.
    expect(received.map((e) => (e.data.recipientCommunicationIdentifier as { rawId: string }).rawId)).toEqual([bob.id]);


    // The send answered once its events were published; its entry, born applied (its operations
    // not kept: they were in its batch), is deleted once the mark is written: one store request for
    // the marks waiting.
    const content = (entry: { events: { data: Record<string, unknown> }[] }) => entry.events.map((e) => [e.data.messageId, e.data.messageBody]);
    const waiting = await entriesOf(threadId, result.id);
    expect(waiting).toHaveLength(1);
    expect(waiting[0]).toMatchObject({ kind: 'outboxEntry', status: 'applied', ops: [], threadId, resourceId: resource.id });
    expect(content(waiting[0]!)).toEqual([[result.id, 'counted'], [result.id, 'counted']]);
    expect((await storeRequests(() => flushMarks(), 'keep')).requests).toBe(1);
    expect(await entriesOf(threadId, result.id)).toEqual([]);

    // A change to the resource on this instance empties its cache entry: the next send reads the
    // registry again (6), and the one after takes it from the cache again (5), with the deletion of
    // the entry of the send before it in its own batch (no request more).
    expect((await stack.management('POST', `/api/management/resources/${view.name}/regenerateKey`, { key: 'secondary' })).status).toBe(200);
    const again = await storeRequests(() => alice.thread(threadId).sendMessage({ content: 'read again' }));
    expect(again.requests).toBe(6);
    expect(await entriesOf(threadId, again.result.id)).toHaveLength(1);
    const cached = await storeRequests(() => alice.thread(threadId).sendMessage({ content: 'cached again' }), 'keep');
    expect(cached.requests).toBe(5);
    expect(await entriesOf(threadId, again.result.id)).toEqual([]);
    expect(await entriesOf(threadId, cached.result.id)).toHaveLength(1);
    await flushMarks();
    expect(await entriesOf(threadId, cached.result.id)).toEqual([]);
    // What is left of the thread's partition: the thread, 2 participants, the creation's 2 system messages and the 4 sent; no entry.
    expect((await partition(threadId)).map((i) => i.kind).sort()).toEqual([...Array(6).fill('message'), 'participant', 'participant', 'thread']);
  });

  it('leaves its entry\'s deletion to the thread\'s next change: an edit takes it along in its own batch, with the text of both', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 1);
    const sent = await alice.thread(threadId).sendMessage({ content: 'to be edited' });
    expect(await entriesOf(threadId, sent.id)).toHaveLength(1);
    // The revocation read, the participants query and the message read (the caller's own message),
    // one batch creating the edit's entry with its two patches and the send's entry's deletion, the
    // edit's entry deleted once published (an edit waits for that), the post-write check and the log record.
    const { requests } = await storeRequests(() => alice.thread(threadId).updateMessage(sent.id, { content: 'edited' }), 'keep');
    expect(requests).toBe(7);
    const { resources: left } = await (await container('chatThreads')).items.query<{ id: string }>('SELECT c.id FROM c WHERE c.kind = "outboxEntry"', { partitionKey: threadId }).fetchAll();
    expect(left).toEqual([]);
    const { resource: stored } = await (await container('chatThreads')).item(`m|${sent.id}`, threadId).read<{ content: string }>();
    expect(stored?.content).toBe('edited');
    const edited = threadEvents(threadId).filter((e) => e.type === 'Microsoft.Communication.ChatMessageEdited' && e.data.messageId === sent.id);
    expect(edited.map((e) => [e.data.messageBody, (e.data.recipientCommunicationIdentifier as { rawId: string }).rawId])).toEqual([['edited', bob.id]]);
  });

  it('by someone not on the roster still answers as a participation check does: 403, and 404 for a deleted thread', async () => {
    const [alice, bob, carol] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 0);
    await expect(carol.thread(threadId).sendMessage({ content: 'not mine' })).rejects.toMatchObject({ statusCode: 403 });
    await alice.thread(threadId).removeParticipant(userRef(bob));
    await expect(bob.thread(threadId).sendMessage({ content: 'removed' })).rejects.toMatchObject({ statusCode: 403, message: expect.stringContaining('removed') });
    await alice.chat.deleteChatThread(threadId);
    await expect(alice.thread(threadId).sendMessage({ content: 'gone' })).rejects.toMatchObject({ statusCode: 404 });
  });
});

describe('the retention purge of one thread', () => {
  it('of 2 participants and 10 messages is 6 store requests and leaves nothing of the thread; a rerun does nothing', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 10);
    await bob.thread(threadId).sendReadReceipt({ chatMessageId: (await partition(threadId)).find((i) => i.kind === 'message')!.id.slice(2) });
    const store = new ChatStore(europe());
    const thread = (await store.thread(threadId))!;
    const stored = await partition(threadId);
    // The thread, 2 participants, a read receipt, 10 messages and the creation's system messages.
    expect(stored.filter((i) => i.kind === 'message').length).toBeGreaterThanOrEqual(10);
    expect(stored.filter((i) => i.kind !== 'message').map((i) => i.kind).sort()).toEqual(['participant', 'participant', 'receipt', 'thread']);
    const due = { threadId, reason: 'idle' as const, expiry: thread.lastActivityAt };
    // The partition query (1: no query plan request for a query in one partition, see
    // shared/stores/single-partition-query-plans.ts), the outbox entry, one batch deleting the thread's items, the 2
    // memberships and the audit record; the entry's publication is recorded later (with the next
    // change of the resource: the next thread the purge deletes).
    const { requests, result } = await storeRequests(() => services().retention.threads.purgeOne(europe(), resource, due));
    expect(result).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: stored.length } });
    // Plus the work item's own hold check (the resource's holds, read once per run and instance when the
    // item names its run; this call names none, so it pays for it: 3 requests): 9.
    expect(requests).toBe(9);
    expect(await partition(threadId)).toEqual([]);
    expect([await membership(alice.id, threadId), await membership(bob.id, threadId)]).toEqual([undefined, undefined]);
    const audit = (await (await container('auditRecords')).items.query({ query: 'SELECT * FROM c WHERE c.subjectId = @t', parameters: [{ name: '@t', value: threadId }] }).fetchAll()).resources;
    expect(audit).toEqual([expect.objectContaining({ action: 'chatThread.purged', reason: 'idle' })]);
    const changeId = stableId('chat.retention', resource.id, threadId, 'idle', thread.lastActivityAt);
    const deleted = threadEvents(threadId).filter((e) => e.type.startsWith('Microsoft.Communication.ChatThread') && e.type.endsWith('Deleted'));
    // The ids derived from the change: ChatThreadDeleted, then ChatThreadWithUserDeleted per participant.
    const perUser = stableId(changeId, '1');
    expect(deleted.map((e) => e.id).sort()).toEqual([stableId(changeId, '0'), stableId(perUser, alice.id), stableId(perUser, bob.id)].sort());
    const entry = async () => (await (await container('outbox')).item(changeId, resource.id).read<{ status: string }>()).resource;
    expect((await entry())?.status).toBe('pending');
    await flushMarks();
    expect((await entry())?.status).toBe('published');

    // A second delivery of the work item finds the thread gone by its own change (in the outbox): done, counted once more by nothing.
    expect(await services().retention.threads.purgeOne(europe(), resource, due)).toEqual({ result: 'done', deleted: { chatThreads: 1 } });
    expect(threadEvents(threadId).filter((e) => e.type.endsWith('Deleted'))).toHaveLength(3);
  });

  it('that changed after it was surveyed is marked deleted instead, and finishing it deletes what came in meanwhile', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 3);
    const store = new ChatStore(europe());
    const before = await partition(threadId);
    const survey = await services().chat.purger.survey(store, threadId);
    expect([survey.complete, survey.items.map((i) => i.id).sort()]).toEqual([true, before.filter((i) => i.kind !== 'thread').map((i) => i.id).sort()]);
    const late = await alice.thread(threadId).sendMessage({ content: 'after the survey' });

    const { items } = await services().chat.purger.purge(resource, survey.thread!, undefined, { survey });
    expect(items).toBe(before.length);
    // The batch failed as a whole (the thread item's etag changed) and went one by one: everything the
    // survey saw is gone, the thread item is marked, the late message is still there; its outbox
    // entry (its deletion waiting on this instance) went first: the purge writes the thread's marks.
    expect(await entriesOf(threadId, late.id)).toEqual([]);
    expect((await partition(threadId)).map((i) => [i.id, i.deletedOn !== undefined]).sort()).toEqual([[`m|${late.id}`, false], [threadId, true]].sort());
    expect([await membership(alice.id, threadId), await membership(bob.id, threadId)]).toEqual([undefined, undefined]);
    await expect(alice.thread(threadId).getProperties()).rejects.toMatchObject({ statusCode: 404 });
    expect(threadEvents(threadId).filter((e) => e.type.endsWith('ThreadDeleted'))).toHaveLength(1);

    expect(await services().chat.purger.finish(store, threadId)).toEqual({ items: 2 });
    expect(await partition(threadId)).toEqual([]);
  });

  it('of more than 100 items marks it first, then deletes 99 items per batch and the thread item with the last', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
    const threadId = await threadWith(alice, bob, 0);
    const threads = await container('chatThreads');
    for (let m = 1; m <= 150; m += 1) {
      await threads.items.create({ id: `m|${m}`, threadId, resourceId: resource.id, kind: 'message', type: 'text', sequence: m, content: 'seeded', createdOn: new Date().toISOString(), mentions: [alice.id] });
    }
    const thread = (await new ChatStore(europe()).thread(threadId))!;
    const stored = (await partition(threadId)).length;
    expect(stored).toBeGreaterThan(150);
    // The partition query (1, finding more than 100), the participant query (1), the outbox entry, one
    // batch marking the thread and deleting its 2 participants, the 2 memberships, the audit record
    // (the entry's publication is recorded later); then twice a content query (1) and a batch: 99
    // messages, then the rest (at most 98) and the thread item.
    const { requests, result } = await storeRequests(() => services().retention.threads.purgeOne(europe(), resource, { threadId, reason: 'idle', expiry: thread.lastActivityAt }));
    expect(result).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: stored } });
    // Plus the work item's hold check (this call names no run, so it is not shared): 12.
    expect(requests).toBe(12);
    expect(await partition(threadId)).toEqual([]);
    expect(threadEvents(threadId).filter((e) => e.type.endsWith('Deleted'))).toHaveLength(3);
  });
});

describe('deleting items in transactional batches', () => {
  it('takes one request per 100 items; a batch with an item already gone is deleted one by one and counts what went', async () => {
    const outbox = await container('outbox');
    const key = `batch-test-${Date.now()}`;
    for (let i = 0; i < 150; i += 1) await outbox.items.create({ id: `i${i}`, resourceId: key });
    const all = Array.from({ length: 150 }, (_, i) => `i${i}`);
    expect(await storeRequests(() => deleteInPartition(outbox, key, all.slice(0, 120)))).toEqual({ requests: 2, result: 120 });
    // 10 of these 40 are gone: the batch fails whole and they go one by one.
    expect(await storeRequests(() => deleteInPartition(outbox, key, all.slice(110, 150)))).toEqual({ requests: 1 + 40, result: 30 });
    expect((await outbox.items.query('SELECT c.id FROM c', { partitionKey: key }).fetchAll()).resources).toEqual([]);
  });

  it('an outbox change applies a partition\'s operations as one batch, and one by one when the batch fails', async () => {
    const outbox = services().outboxFor(europe());
    const items = await container('outbox');
    const key = resource.id;
    const target = { plane: 'geo' as const, container: 'outbox' as const };
    const change = (id: string, ops: Parameters<typeof outbox.commit>[0]['ops']) =>
      outbox.commit({ changeId: id, resourceId: key, eventSource: `/resources/${key}`, payloadMode: 'full', ops, events: [{ type: 'Test.Batched', subject: id, data: { resourceId: key } }] });
    const upsert = (id: string) => ({ op: 'upsert' as const, target, partitionKey: key, item: { id, resourceId: key, status: 'published' } });
    // The entry, one batch of 3 upserts, the entry published.
    expect((await storeRequests(() => change(`batched-${Date.now()}`, [upsert('b1'), upsert('b2'), upsert('b3')]))).requests).toBe(3);
    // A patch of a missing item fails the batch: the entry, the failed batch, 3 one by one (the patch skipped), published.
    const failing = await storeRequests(() =>
      change(`fallback-${Date.now()}`, [upsert('f1'), upsert('f2'), { op: 'patch', target, partitionKey: key, id: 'missing', set: { x: 1 } }]),
    );
    expect(failing.requests).toBe(6);
    for (const id of ['b1', 'b2', 'b3', 'f1', 'f2']) expect((await items.item(id, key).read()).resource).toMatchObject({ id, changeStamp: expect.any(Object) });
    expect((await items.item('missing', key).read()).resource).toBeUndefined();
  });
});
