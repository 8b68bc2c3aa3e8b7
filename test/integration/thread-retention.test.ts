import type { Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadRecord } from '../../shared/chat/chat-records.js';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import type { Resource } from '../../shared/resources/resource.js';
import { expiryOf, ThreadRetention, threadPurgeChangeId, type DueThread, type ThreadWork } from '../../shared/retention/thread-retention.js';
import { services } from '../../shared/services.js';
import { GeoStore } from '../../shared/stores/geo-store.js';
import type { GeoContainerName } from '../../shared/stores/store-catalogue.js';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { QUIET_STORES_ENV, startTestStack, type TestStack } from '../support/test-stack.js';
import { writeMarks } from '../support/outbox-marks.js';

/**
 * Chat thread retention's domain module on its own, over the stack's stores: what the preview plans
 * (at most its limit, past their policy first, held threads listed), the planner's pages, and what one
 * work item does with a thread as it finds it (gone, deleted by someone else, active since, held since,
 * half-purged by an earlier delivery of the same item). Its clock is its own, set days after the
 * threads were made; the stack runs on the system clock. The queries it makes are counted on its
 * `chatThreads` container (each page fetched).
 */
const DAY = 86_400_000;
let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({ env: { ...QUIET_STORES_ENV } });
  // The stack creates containers on first use; the counting store below only hands out handles.
  for (const name of ['chatThreads', 'chatMemberships', 'auditRecords', 'outbox'] as const) await europe().container(name);
});
afterAll(async () => stack?.stop());

/**
 * Europe's store, counting each page of a query fetched from `chatThreads` (fetchNext or fetchAll);
 * with `unavailable` set, each such fetch fails with a 503 instead.
 */
class CountingGeoStore extends GeoStore {
  queries = 0;
  unavailable = false;

  override async existingContainer(name: GeoContainerName): Promise<Container> {
    return this.#counting(name, await super.existingContainer(name));
  }

  override async container(name: GeoContainerName): Promise<Container> {
    return this.#counting(name, await super.container(name));
  }

  #counting(name: GeoContainerName, container: Container): Container {
    if (name !== 'chatThreads') return container;
    const count = () => {
      this.queries += 1;
      if (this.unavailable) throw Object.assign(new Error('Service unavailable'), { code: 503 });
    };
    const items = new Proxy(container.items, {
      get: (target, key) =>
        key === 'query'
          ? (...args: Parameters<typeof target.query>) => {
              const query = target.query(...args);
              return new Proxy(query, {
                get: (q, k) => (k === 'fetchNext' || k === 'fetchAll' ? (count(), Reflect.get(q, k).bind(q)) : Reflect.get(q, k)),
              });
            }
          : Reflect.get(target, key),
    });
    return new Proxy(container, { get: (target, key) => (key === 'items' ? items : Reflect.get(target, key)) });
  }
}

const europe = () => services().stores.forGeography(geographyByKey('europe'));
/** Europe's database through the stack's own Cosmos client, its queries on `chatThreads` counted. */
const countingEurope = () =>
  new CountingGeoStore(geographyByKey('europe'), {
    cosmos: async () => (await europe().database()).client,
    blobs: () => {
      throw new Error('thread retention reads no blobs');
    },
    databaseId: europe().databaseId,
    blobContainerPrefix: europe().databaseId,
    provision: false,
  });

let resources = 0;

/** A fresh resource in Europe with the given idle period, two users of it, and retention on a clock 31 days ahead (a policy takes 30 to 90 days). */
async function fresh(idleThreadDays: number) {
  const name = `thread-retention-${(resources += 1)}`;
  const view = await stack.createResource(name, 'Europe', { retention: { idleThreadDays } });
  const resource = await services().resources.get(name);
  const [alice, bob] = await Promise.all([createChatUser(stack, view), createChatUser(stack, view)]);
  const clock = new ManualClock(new Date(Date.now() + 31 * DAY));
  const retention = new ThreadRetention({ holds: services().retention.holds, purger: services().chat.purger, clock });
  return { view, resource, alice, bob, clock, retention, geo: countingEurope() };
}

/**
 * A thread of alice's with bob, with a policy deleting it `policyDays` after creation if given. Its
 * partition holds 5 items: the thread, 2 participants, and the participantAdded and topicUpdated
 * system messages (a purge counts all 5 as chatItems).
 */
async function thread(alice: ChatUser, bob: ChatUser, policyDays?: number): Promise<string> {
  const retentionPolicy = policyDays === undefined ? {} : { retentionPolicy: { kind: 'threadCreationDate' as const, deleteThreadAfterDays: policyDays } };
  const { chatThread } = await alice.chat.createChatThread({ topic: 'retained' }, { participants: [{ id: userRef(bob) }], ...retentionPolicy });
  return chatThread!.id;
}

const threads = async () => europe().existingContainer('chatThreads');
const stored = async (threadId: string) => (await (await threads()).item(threadId, threadId).read<ThreadRecord & { changeStamp?: { id: string } }>()).resource;
const partitionSize = async (threadId: string) =>
  (await (await threads()).items.query<number>('SELECT VALUE COUNT(1) FROM c', { partitionKey: threadId }).fetchAll()).resources[0];
const audit = async (resource: Resource, threadId: string) =>
  (
    await (await europe().existingContainer('auditRecords')).items
      .query<{ reason: string; details: Record<string, unknown> }>({ query: "SELECT c.reason, c.details FROM c WHERE c.action = 'chatThread.purged' AND c.subjectId = @t", parameters: [{ name: '@t', value: threadId }] }, { partitionKey: resource.id })
      .fetchAll()
  ).resources;

/** The work item the planner would enqueue for a thread now. */
async function workFor(threadId: string, reason: DueThread['reason'] = 'idle'): Promise<ThreadWork> {
  const record = (await stored(threadId))!;
  return { threadId, reason, expiry: expiryOf({ reason, lastActivityAt: record.lastActivityAt, policyExpiresAt: record.policyExpiresAt }) };
}

async function placeHold(resource: Resource, target: { kind: 'thread'; threadId: string } | { kind: 'identity'; identityId: string }): Promise<string> {
  return (await services().retention.holds.place(resource, { target, reason: 'litigation' })).id;
}

describe('the work item a plan gives', () => {
  it('carries the idle thread\'s last activity, or the policy\'s expiry (empty when it has none)', () => {
    const row = { lastActivityAt: '2026-01-01T00:00:00.000Z', policyExpiresAt: '2026-02-01T00:00:00.000Z' };
    expect(expiryOf({ ...row, reason: 'idle' })).toBe('2026-01-01T00:00:00.000Z');
    expect(expiryOf({ ...row, reason: 'retentionPolicy' })).toBe('2026-02-01T00:00:00.000Z');
    expect(expiryOf({ reason: 'retentionPolicy', lastActivityAt: row.lastActivityAt, policyExpiresAt: null })).toBe('');
  });

  it('derives the same change id in every version, from what it names (a redelivery after an upgrade emits no new event id)', () => {
    const work: ThreadWork = { threadId: '19:a@thread.v2', reason: 'idle', expiry: '2026-01-01T00:00:00.000Z' };
    expect(threadPurgeChangeId('resource-1', work)).toBe('03febb67-28f2-5e33-a0cd-29f3b50f2b25');
    expect(threadPurgeChangeId('resource-1', { ...work, runId: 'another run' })).toBe('03febb67-28f2-5e33-a0cd-29f3b50f2b25');
    expect(threadPurgeChangeId('resource-2', work)).not.toBe('03febb67-28f2-5e33-a0cd-29f3b50f2b25');
  });
});

describe('the preview and the planner', () => {
  it('plans at most the limit, past their policy first; pages hold at most the page size and none is empty', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const policy = [await thread(alice, bob, 30), await thread(alice, bob, 30)];
    const idle = [await thread(alice, bob), await thread(alice, bob), await thread(alice, bob)];
    const reasons = (due: DueThread[]) => due.map((d) => `${d.reason} ${d.threadId}`).sort();

    const two = await retention.plan(geo, resource, 2);
    expect(reasons(two.due)).toEqual(policy.map((t) => `retentionPolicy ${t}`).sort());
    // The policy query's one page filled the limit: the idle query is not made.
    expect(geo.queries).toBe(1);
    const three = await retention.plan(geo, resource, 3);
    expect(three.due).toHaveLength(3);
    expect(three.due.filter((d) => d.reason === 'idle')).toHaveLength(1);
    expect(idle).toContain(three.due.find((d) => d.reason === 'idle')!.threadId);
    const all = await retention.plan(geo, resource, 10);
    expect(reasons(all.due)).toEqual([...policy.map((t) => `retentionPolicy ${t}`), ...idle.map((t) => `idle ${t}`)].sort());
    expect(all.held).toEqual([]);

    const pages: number[] = [];
    for await (const page of retention.duePages(geo, resource, 2, new Map())) pages.push(page.length);
    expect(pages).toEqual([2, 2, 1]);
  });

  it('finds nothing and yields no page where nothing is due; makes no idle query when idleThreadDays is 0', async () => {
    const { resource, alice, bob, clock, retention, geo } = await fresh(0);
    const policy = await thread(alice, bob, 40);
    await thread(alice, bob);
    const pages: unknown[] = [];
    for await (const page of retention.duePages(geo, resource, 10, new Map())) pages.push(page);
    expect(pages).toEqual([]);
    expect(geo.queries).toBe(1);
    clock.advance(10 * DAY + 1_000);
    const { due } = await retention.plan(geo, resource, 10);
    expect(due.map((d) => `${d.reason} ${d.threadId}`)).toEqual([`retentionPolicy ${policy}`]);
    // With a hold, the held list asks once more: again the policy query alone.
    const holdId = await placeHold(resource, { kind: 'thread', threadId: policy });
    geo.queries = 0;
    const held = await retention.plan(geo, resource, 10);
    expect(held).toEqual({ resourceId: resource.id, due: [], held: [{ resourceId: resource.id, subjectType: 'chatThread', subjectId: policy, holdIds: [holdId] }] });
    expect(geo.queries).toBe(2);
  });

  it('lists due threads that holds keep, by policy and idle, with their holds, and plans none of them', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const policy = await thread(alice, bob, 30);
    const idle = await thread(alice, bob);
    const free = await thread(alice, bob);
    const [policyHold, idleHold] = [await placeHold(resource, { kind: 'thread', threadId: policy }), await placeHold(resource, { kind: 'thread', threadId: idle })];
    const plan = await retention.plan(geo, resource, 10);
    expect(plan.due.map((d) => d.threadId)).toEqual([free]);
    expect(plan.held.sort((x, y) => x.subjectId.localeCompare(y.subjectId))).toEqual(
      [
        { resourceId: resource.id, subjectType: 'chatThread', subjectId: policy, holdIds: [policyHold] },
        { resourceId: resource.id, subjectType: 'chatThread', subjectId: idle, holdIds: [idleHold] },
      ].sort((x, y) => x.subjectId.localeCompare(y.subjectId)),
    );
  });

  it('lists at most 200 held threads per reason', async () => {
    const { resource, retention, geo, clock } = await fresh(1);
    // 201 idle threads of a held identity, written as stored (the query reads these fields), and its memberships.
    const identityId = `8:acs:${resource.id}_held-member`;
    const container = await threads();
    const memberships = await europe().container('chatMemberships');
    const at = new Date(clock.now().getTime() - 2 * DAY).toISOString();
    const ids = Array.from({ length: 201 }, (_, i) => `19:held${String(i).padStart(3, '0')}${resources}@thread.v2`);
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map(async (threadId) => {
          await container.items.create({ id: threadId, threadId, kind: 'thread', resourceId: resource.id, lastActivityAt: at, createdOn: at, policyExpiresAt: null, sequence: 0 });
          await memberships.items.create({ id: threadId, identityId, threadId, resourceId: resource.id });
        }),
      );
    }
    const holdId = await placeHold(resource, { kind: 'identity', identityId });
    const plan = await retention.plan(geo, resource, 10);
    expect(plan.due).toEqual([]);
    expect(plan.held).toHaveLength(200);
    expect(new Set(plan.held.map((h) => h.subjectId)).size).toBe(200);
    for (const item of plan.held) expect(item).toEqual({ resourceId: resource.id, subjectType: 'chatThread', subjectId: expect.stringMatching(/^19:held/), holdIds: [holdId] });
  });
});

describe('a geography without chat', () => {
  it('has nothing due and nothing held where no thread container exists yet; another store error is passed on', async () => {
    const { resource, retention, geo } = await fresh(1);
    const japan = await stack.createResource(`thread-retention-japan-${resources}`, 'Japan');
    const registered = await services().resources.get(japan.name);
    const { resources: containers } = await (await services().stores.forResource(registered).database()).containers.readAll().fetchAll();
    expect(containers.map((c) => c.id)).not.toContain('chatThreads');
    expect(await retention.plan(services().stores.forResource(registered), registered, 10)).toEqual({ resourceId: registered.id, due: [], held: [] });
    geo.unavailable = true;
    await expect(retention.plan(geo, resource, 10)).rejects.toMatchObject({ code: 503 });
  });
});

describe('one work item', () => {
  it('deletes a due thread with its audit record (the policy expiry in its details only when it has one); delivered again, counts the thread once more from the outbox', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const [idle, policy] = [await thread(alice, bob), await thread(alice, bob, 30)];
    const record = (await stored(idle))!;
    const work = await workFor(idle);
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: 5 } });
    expect(await partitionSize(idle)).toBe(0);
    expect(await audit(resource, idle)).toEqual([{ reason: 'idle', details: { createdOn: record.createdOn, lastActivityAt: record.lastActivityAt } }]);
    // The thread is gone and the purge's change is in the outbox: this purge deleted it.
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done', deleted: { chatThreads: 1 } });

    const policyRecord = (await stored(policy))!;
    expect(await retention.purgeOne(geo, resource, await workFor(policy, 'retentionPolicy'))).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: 5 } });
    expect(await audit(resource, policy)).toEqual([
      { reason: 'retentionPolicy', details: { createdOn: policyRecord.createdOn, lastActivityAt: policyRecord.lastActivityAt, policyExpiresAt: policyRecord.policyExpiresAt } },
    ]);
  });

  it('is done, having deleted nothing, for a thread that never existed or that someone else deleted', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    expect(await retention.purgeOne(geo, resource, { threadId: '19:never-existed@thread.v2', reason: 'idle', expiry: '2026-01-01T00:00:00.000Z' })).toEqual({ result: 'done' });
    const threadId = await thread(alice, bob);
    const work = await workFor(threadId);
    await alice.chat.deleteChatThread(threadId);
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done' });
    expect(await audit(resource, threadId)).toEqual([]);
  });

  it('leaves a thread another deletion has marked (the deletion sweep finishes it)', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const threadId = await thread(alice, bob);
    const work = await workFor(threadId);
    await (await threads()).item(threadId, threadId).patch([{ op: 'set', path: '/deletedOn', value: new Date().toISOString() }]);
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done' });
    expect(await partitionSize(threadId)).toBe(5);
    expect(await audit(resource, threadId)).toEqual([]);
  });

  it('leaves a thread active since it was planned', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const threadId = await thread(alice, bob);
    const work = await workFor(threadId);
    await alice.thread(threadId).sendMessage({ content: 'still here' });
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done' });
    // The send's outbox entry (in the partition until its mark is written) first.
    await writeMarks();
    expect(await partitionSize(threadId)).toBe(6);
    expect((await stored(threadId))!.deletedOn ?? null).toBeNull();
  });

  it('holds a thread held since it was planned, by a hold on it or on a member, not by a hold on someone never in it', async () => {
    const { view, resource, alice, bob, retention, geo } = await fresh(1);
    const [onThread, onMember, onStranger] = [await thread(alice, bob), await thread(alice, bob), await thread(alice, bob)];
    const carol = await createChatUser(stack, view);
    const threadHold = await placeHold(resource, { kind: 'thread', threadId: onThread });
    expect(await retention.purgeOne(geo, resource, await workFor(onThread))).toEqual({
      result: 'held',
      held: { resourceId: resource.id, subjectType: 'chatThread', subjectId: onThread, holdIds: [threadHold] },
    });
    const memberHold = await placeHold(resource, { kind: 'identity', identityId: bob.id });
    expect(await retention.purgeOne(geo, resource, await workFor(onMember))).toEqual({
      result: 'held',
      held: { resourceId: resource.id, subjectType: 'chatThread', subjectId: onMember, holdIds: [memberHold] },
    });
    await services().retention.holds.release(resource, memberHold, 'settled');
    await placeHold(resource, { kind: 'identity', identityId: carol.id });
    expect(await retention.purgeOne(geo, resource, await workFor(onStranger))).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: 5 } });
    expect(await partitionSize(onThread)).toBe(5);
    expect(await partitionSize(onMember)).toBe(5);
  });

  it('finishes a thread an earlier delivery of the same item marked, whatever changed or holds since', async () => {
    const { resource, alice, bob, retention, geo } = await fresh(1);
    const threadId = await thread(alice, bob);
    const work = await workFor(threadId);
    // As an earlier delivery leaves a thread it marked (its change committed, its instance gone):
    // marked deleted by this purge's change, then active and held.
    await (await threads()).item(threadId, threadId).patch([
      { op: 'set', path: '/deletedOn', value: new Date().toISOString() },
      { op: 'set', path: '/changeStamp', value: { id: threadPurgeChangeId(resource.id, work), at: new Date().toISOString() } },
      { op: 'set', path: '/lastActivityAt', value: new Date(Date.now() + 1).toISOString() },
    ]);
    await placeHold(resource, { kind: 'thread', threadId });
    expect(await retention.purgeOne(geo, resource, work)).toEqual({ result: 'done', deleted: { chatThreads: 1, chatItems: 5 } });
    expect(await partitionSize(threadId)).toBe(0);
  });
});
