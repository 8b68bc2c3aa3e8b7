import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { ChangeSet, OutboxEntry } from '../../shared/events/outbox.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { createChatUser, identityClient, userRef, type ChatUser } from '../support/chat-users.js';
import { writeMarks } from '../support/outbox-marks.js';
import { QUIET_STORES_ENV, startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Outbox entries kept in a chat thread's partition (shared/events/entry-home.ts): a send's entry is
 * created in one transactional batch with its message, deleted once published. Here the cases where
 * it is not: the topic down (the entry stays through the thread's and the resource's deletion, and
 * the republisher finishes it), an instance gone before publishing (left to it for the grace), a
 * change that cannot go in the thread's batch (the outbox as usual), and a change committed twice.
 * The republisher runs when the test asks; publication marks wait for the test's flush. No timer
 * runs on its schedule: the tests count store requests (one run counted 2 more, a scheduled timer's).
 */
let stack: TestStack;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { ...QUIET_STORES_ENV, OUTBOX_MARK_DELAY_MS: '60000' } });
});
afterAll(async () => stack?.stop());

const europe = () => services().stores.forGeography(geographyByKey('europe'));
const threads = () => europe().container('chatThreads');
type Stored = OutboxEntry & { _etag?: string };
/** What a thread's partition holds, by id and kind. */
const partition = async (threadId: string) =>
  (await (await threads()).items.query<{ id: string; kind: string }>('SELECT c.id, c.kind FROM c', { partitionKey: threadId }).fetchAll()).resources;
const entriesIn = async (threadId: string) =>
  (await (await threads()).items.query<Stored>('SELECT * FROM c WHERE c.kind = "outboxEntry"', { partitionKey: threadId }).fetchAll()).resources;
/** Outbox-container entries whose first event names the thread's message. */
const inOutbox = async (threadId: string, messageId: string) =>
  (
    await (await europe().container('outbox')).items
      .query({ query: 'SELECT c.id FROM c WHERE c.events[0].data.threadId = @t AND c.events[0].data.messageId = @m', parameters: [{ name: '@t', value: threadId }, { name: '@m', value: messageId }] })
      .fetchAll()
  ).resources;
/** The ids of the events delivered about a message of a thread (message ids are times: two threads may share one). */
const delivered = (threadId: string, messageId: string) =>
  stack.topic!.received().filter((r) => (r.event.data as { threadId?: string }).threadId === threadId && (r.event.data as { messageId?: string }).messageId === messageId).map((r) => r.event.id as string);

async function threadOf(view: ResourceView): Promise<{ alice: ChatUser; bob: ChatUser; threadId: string }> {
  const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
  const { chatThread } = await alice.chat.createChatThread({ topic: 'entries' }, { participants: [{ id: userRef(bob) }] });
  return { alice, bob, threadId: chatThread!.id };
}

describe('an outbox entry in a thread\'s partition', () => {
  it('whose events the topic did not take stays through the thread\'s and the resource\'s deletion, until the republisher publishes them once', async () => {
    const [kept, gone] = [await stack.createResource('thread-entries-kept', 'Europe'), await stack.createResource('thread-entries-gone', 'Europe')];
    const [inKept, inGone] = [await threadOf(kept), await threadOf(gone)];
    await writeMarks();
    const start = clock.now();
    await stack.topic!.stop();
    try {
      const [sent, lost] = [await inKept.alice.thread(inKept.threadId).sendMessage({ content: 'while down' }), await inGone.alice.thread(inGone.threadId).sendMessage({ content: 'resource gone' })];
      // Answered: a publish failure is not the caller's. The entry, born applied in the message's batch, records the failed attempt.
      const [entry] = await entriesIn(inKept.threadId);
      expect(entry).toMatchObject({ kind: 'outboxEntry', threadId: inKept.threadId, status: 'applied', ops: [], attempts: 1, lastError: expect.any(String) });
      expect(entry!.nextAttemptAt).toBe(new Date(start.getTime() + 5_000).toISOString());
      expect(entry!.events.map((e) => (e.data as { messageBody?: string }).messageBody)).toEqual(['while down', 'while down']);
      expect(await entriesIn(inKept.threadId)).toHaveLength(1);
      expect(await inOutbox(inKept.threadId, sent.id)).toEqual([]);

      // The thread's deletion takes everything else of its partition and leaves the entry.
      await inKept.alice.chat.deleteChatThread(inKept.threadId);
      expect(await partition(inKept.threadId)).toEqual([{ id: entry!.id, kind: 'outboxEntry' }]);
      // The resource's deletion erases its data and keeps the unpublished entry, counted as awaiting publication.
      const [lostEntry] = await entriesIn(inGone.threadId);
      const before = await partition(inGone.threadId);
      const deleted = await stack.management('DELETE', `/api/management/resources/${gone.name}`);
      expect(deleted.status).toBe(200);
      expect(deleted.body.eventsAwaitingPublication).toBe(1);
      expect(deleted.body.removed.cosmos.chatThreads).toBe(before.length - 1);
      expect(await partition(inGone.threadId)).toEqual([{ id: lostEntry!.id, kind: 'outboxEntry' }]);

      await stack.topic!.start();
      // Before its next attempt is due, the republisher leaves it.
      await stack.runFunction('outboxRepublish');
      expect([delivered(inKept.threadId, sent.id), delivered(inGone.threadId, lost.id)]).toEqual([[], []]);
      clock.advance(10 * 60_000);
      await stack.runFunction('outboxRepublish');
      // Each message's two events (to the thread, to bob), once each, with the ids the entries recorded; the entries are gone.
      for (const [threadId, id, recorded] of [[inKept.threadId, sent.id, entry!], [inGone.threadId, lost.id, lostEntry!]] as const) {
        const ids = delivered(threadId, id);
        expect(ids).toHaveLength(2);
        expect(new Set(ids).size).toBe(2);
        expect(ids).toContain(recorded.events[0]!.id);
      }
      expect([await partition(inKept.threadId), await partition(inGone.threadId)]).toEqual([[], []]);
      // A second run finds nothing more.
      const count = stack.topic!.received().length;
      clock.advance(10 * 60_000);
      await stack.runFunction('outboxRepublish');
      expect(stack.topic!.received()).toHaveLength(count);
    } finally {
      clock.set(start);
      await stack.topic!.start();
    }
  });

  it('of an instance gone before it published is left for the grace (60 s), then published by the republisher and deleted', async () => {
    const view = await stack.createResource('thread-entries-orphan', 'Europe');
    const { threadId } = await threadOf(view);
    const now = clock.now();
    // As a send's batch leaves it: applied, its next attempt after the grace.
    const orphan: OutboxEntry = {
      id: `orphan-${now.getTime()}`,
      resourceId: view.id,
      threadId,
      kind: 'outboxEntry',
      status: 'applied',
      createdAt: now.toISOString(),
      ops: [],
      events: [{ id: `orphan-event-${now.getTime()}`, type: 'Test.Orphaned', source: `/resources/${view.id}`, subject: 's', time: now.toISOString(), dataVersion: '1.0', data: { resourceId: view.id, threadId, messageId: 'orphaned' } }],
      subjects: [],
      attempts: 0,
      nextAttemptAt: new Date(now.getTime() + 60_000).toISOString(),
    };
    await (await threads()).items.create(orphan);
    try {
      clock.set(new Date(now.getTime() + 59_999));
      await stack.runFunction('outboxRepublish');
      expect(delivered(threadId, 'orphaned')).toEqual([]);
      expect(await entriesIn(threadId)).toHaveLength(1);
      clock.set(new Date(now.getTime() + 60_000));
      await stack.runFunction('outboxRepublish');
      expect(delivered(threadId, 'orphaned')).toEqual([orphan.events[0]!.id]);
      expect(await entriesIn(threadId)).toEqual([]);
    } finally {
      clock.set(now);
    }
  });

  it('of a send is gone with its text before its sender\'s deletion erases the rest of them, as before a thread\'s deletion', async () => {
    const view = await stack.createResource('thread-entries-erased', 'Europe');
    const { bob, threadId } = await threadOf(view);
    const { alice: owner, threadId: other } = await threadOf(view);
    await writeMarks();
    const sent = await bob.thread(threadId).sendMessage({ content: 'bob wrote this' });
    await owner.thread(other).sendMessage({ content: 'in a thread deleted next' });
    // Their deletions wait for the flush (60 s here): the entries, with the text, are still there.
    expect((await entriesIn(threadId)).map((e) => (e.events[0]!.data as { messageBody?: string }).messageBody)).toEqual(['bob wrote this']);
    expect(await entriesIn(other)).toHaveLength(1);
    await owner.chat.deleteChatThread(other);
    expect(await partition(other)).toEqual([]);
    await identityClient(stack, view).deleteUser(userRef(bob));
    expect(await entriesIn(threadId)).toEqual([]);
    expect((await partition(threadId)).filter((i) => i.id === `m|${sent.id}`)).toEqual([]);
  });

  describe('committed through the outbox', () => {
    let view: ResourceView;
    let threadId: string;
    beforeAll(async () => {
      view = await stack.createResource('thread-entries-commit', 'Europe');
      ({ threadId } = await threadOf(view));
    });
    const outbox = () => services().outboxFor(europe());
    let changes = 0;
    const change = (ops: ChangeSet['ops'], extra: Partial<ChangeSet> = {}): ChangeSet & { changeId: string } => {
      const changeId = `commit-${(changes += 1)}-${Date.now()}`;
      return { changeId, resourceId: view.id, eventSource: `/resources/${view.id}`, payloadMode: 'full', ops, events: [{ type: 'Test.InThread', subject: changeId, data: { resourceId: view.id } }], entryInThread: threadId, ...extra };
    };
    const doc = (id: string, partitionKey = threadId) => ({ op: 'upsert' as const, target: { plane: 'geo' as const, container: 'chatThreads' as const }, partitionKey, item: { id, threadId: partitionKey, resourceId: view.id, kind: 'test' } });
    const sentFor = (subject: string) => stack.topic!.received().filter((r) => (r.event as { subject?: string }).subject === subject);
    const read = async (id: string, partitionKey = threadId) => (await (await threads()).item(id, partitionKey).read<{ id: string; changeStamp?: { id: string }; value?: number }>()).resource;
    const outboxEntry = async (id: string) => (await (await europe().container('outbox')).item(id, view.id).read<OutboxEntry>()).resource;
    const requests = () => stack.cosmosRequests!();

    it('writes the entry and the operations in one batch, and deletes the entry once published', async () => {
      const c = change([doc('in-batch-1'), doc('in-batch-2')]);
      const before = requests();
      await outbox().commit(c);
      // The batch, and the entry's deletion.
      expect(requests() - before).toBe(2);
      expect([(await read('in-batch-1'))?.changeStamp?.id, (await read('in-batch-2'))?.changeStamp?.id]).toEqual([c.changeId, c.changeId]);
      expect(await read(c.changeId)).toBeUndefined();
      expect(await outboxEntry(c.changeId)).toBeUndefined();
      expect(sentFor(c.changeId)).toHaveLength(1);
    });

    it('that writes another partition too goes to the outbox as any change', async () => {
      const c = change([doc('elsewhere-1'), doc('elsewhere-2', '19:0000000000000000000000000000b001@thread.v2')]);
      const before = requests();
      await outbox().commit(c);
      // The entry, the two writes (one per partition, side by side), the entry marked published.
      expect(requests() - before).toBe(4);
      expect(await outboxEntry(c.changeId)).toMatchObject({ status: 'published', ops: [] });
      expect(await read(c.changeId)).toBeUndefined();
      expect((await read('elsewhere-1'))?.changeStamp?.id).toBe(c.changeId);
      expect(sentFor(c.changeId)).toHaveLength(1);
    });

    it('whose batch is refused (a condition no longer holds) is committed through the outbox, the refused write skipped', async () => {
      await (await threads()).items.create({ id: 'conditioned', threadId, resourceId: view.id, kind: 'test', value: 1, deletedOn: 'gone' });
      const c = change([doc('refused-along'), { op: 'patch', target: { plane: 'geo', container: 'chatThreads' }, partitionKey: threadId, id: 'conditioned', set: { value: 2 }, condition: 'FROM c WHERE NOT IS_DEFINED(c.deletedOn)' }]);
      const before = requests();
      await outbox().commit(c);
      // The refused batch, the read finding no entry of it, the outbox entry, the two writes one by one
      // (the batch of them refused again first), the entry marked published.
      expect(requests() - before).toBe(7);
      expect(await read(c.changeId)).toBeUndefined();
      expect(await outboxEntry(c.changeId)).toMatchObject({ status: 'published', ops: [] });
      expect((await read('conditioned'))?.value).toBe(1);
      expect((await read('refused-along'))?.changeStamp?.id).toBe(c.changeId);
      expect(sentFor(c.changeId)).toHaveLength(1);
    });

    it('twice with the same id publishes once: the second finds the first\'s entry in the thread\'s partition', async () => {
      const c = change([doc('twice')], { markPublishedLater: true });
      const first = await outbox().commitBeside(c);
      await first.published;
      // Published; its deletion waits for the flush.
      expect((await read(c.changeId))?.id).toBe(c.changeId);
      const again = await outbox().commit({ ...c, events: [{ type: 'Test.InThread', subject: c.changeId, data: { resourceId: view.id, other: true } }] });
      expect(again).toEqual(first.events);
      expect(sentFor(c.changeId)).toHaveLength(1);
      expect(await outboxEntry(c.changeId)).toBeUndefined();
      await outbox().flushMarks(threadId);
      expect(await read(c.changeId)).toBeUndefined();
    });
  });
});
