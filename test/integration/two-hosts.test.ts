import { CosmosClient, type Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedThreads } from '../../bench/seed-threads.js';
import type { HostInstance } from '../../local/host-instances.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { PrivacyClient } from '../support/privacy.js';
import { startTestStack, toTestResponse, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Two instances of the app on one set of stores (embedded Cosmos, Azurite blobs and queues, the
 * local topic): the test stack's host and a second host in a process of its own. Sends through
 * both, a purge planned once and worked on by both, a privacy request whose steps run on both;
 * each checked down to what is stored and what the topic received.
 */

const NEVER = '0 0 0 1 1 *';
/** Expiring threads the purge test seeds. */
const THREADS = 120;
let stack: TestStack;
let second: HostInstance;
let resource: ResourceView;

beforeAll(async () => {
  stack = await startTestStack({
    env: {
      ENABLED_GEOGRAPHIES: 'Europe,Japan',
      RETENTION_PURGE_SCHEDULE: NEVER,
      RECORDING_PURGE_SCHEDULE: NEVER,
      PRIVACY_WORKER_SCHEDULE: NEVER,
      OUTBOX_REPUBLISH_SCHEDULE: NEVER,
      PRIVACY_STEPS_PER_ITEM: '1',
      PRIVACY_PAGE_SIZE: '10',
      LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
      // Long enough for the deletion test to send through the second host while the deletion waits.
      RESOURCE_CACHE_MS: '2000',
    },
    queues: { maxPollingInterval: '00:00:00.400', batchSize: 8 },
  });
  second = await stack.startInstance('second host');
  resource = await stack.createResource('two-hosts', 'Europe');
}, 180_000);
afterAll(async () => stack?.stop());

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const europe = (name: string): Container => cosmos().database('acs-europe').container(name);
async function query<T>(container: Container, sql: string, parameters: { name: string; value: unknown }[] = []): Promise<T[]> {
  return (await container.items.query<T>({ query: sql, parameters: parameters as never }).fetchAll()).resources;
}
/** How often each queue function has run to success on the two hosts. */
async function completed(fn: string): Promise<[number, number]> {
  return [stack.host.queueTriggers.completed.get(fn) ?? 0, (await second.completed())[fn] ?? 0];
}

/** A message sent over plain HTTP to one host (the chat API as the SDK calls it). */
async function send(origin: string, user: ChatUser, threadId: string, text: string, resourceName = resource.name) {
  const url = new URL(`/chat/threads/${encodeURIComponent(threadId)}/messages`, origin);
  url.searchParams.set('resource', resourceName);
  url.searchParams.set('api-version', '2025-03-15');
  return toTestResponse(await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ content: text }) }));
}

describe('two hosts on one set of stores', () => {
  it('concurrent sends through both keep each thread\'s sequence ids unique and gapless', { timeout: 120_000 }, async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threads = await Promise.all([0, 1, 2].map(async (i) => (await alice.chat.createChatThread({ topic: `t${i}` }, { participants: [{ id: userRef(bob) }] })).chatThread!.id));
    const origins = [stack.httpUrl, second.httpUrl];
    const answers = await Promise.all(
      threads.flatMap((threadId) => Array.from({ length: 30 }, (_, n) => send(origins[n % 2]!, n % 3 === 0 ? bob : alice, threadId, `${threadId.slice(3, 9)} ${n}`))),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(90).fill(201));
    for (const threadId of threads) {
      const items = await query<{ kind: string; type: string; sequence: number }>(europe('chatThreads'), 'SELECT c.kind, c.type, c.sequence FROM c WHERE c.threadId = @t', [{ name: '@t', value: threadId }]);
      const sequences = items.filter((i) => i.kind === 'message').map((i) => i.sequence).sort((a, b) => a - b);
      expect(items.filter((i) => i.kind === 'message' && i.type === 'text')).toHaveLength(30);
      // Every message (text and system) has its own sequence id, 1 to n without a gap.
      expect(sequences).toEqual(Array.from({ length: sequences.length }, (_, i) => i + 1));
      const [thread] = await query<{ sequence: number }>(europe('chatThreads'), "SELECT c.sequence FROM c WHERE c.threadId = @t AND c.kind = 'thread'", [{ name: '@t', value: threadId }]);
      expect(thread!.sequence).toBe(sequences.length);
    }
  });

  it('a purge planned once is worked on by both: every thread deleted once, every event id sent once, the run counted exactly', { timeout: 180_000 }, async () => {
    const [workBefore, secondBefore] = await completed('chatRetentionWork');
    // The app's own containers (created if this test runs first).
    const geo = services().stores.forGeography(geographyByKey('europe'));
    const containers = { threads: await geo.container('chatThreads'), memberships: await geo.container('chatMemberships') };
    const seeded = await seedThreads(containers, resource.id, new Date(), { expiring: THREADS, fresh: 100, messages: 5 });
    const ids = new Set(seeded.expiring);
    const received = stack.topic!.received().length;
    await stack.runFunction('chatRetentionPurge');

    const remaining = await query<number>(europe('chatThreads'), 'SELECT VALUE COUNT(1) FROM c WHERE ARRAY_CONTAINS(@ids, c.threadId)', [{ name: '@ids', value: seeded.expiring }]);
    expect(remaining).toEqual([0]);
    const fresh = await query<number>(europe('chatThreads'), "SELECT VALUE COUNT(1) FROM c WHERE c.kind = 'thread' AND c.resourceId = @r AND c.topic = 'seeded'", [{ name: '@r', value: resource.id }]);
    expect(fresh).toEqual([100]);
    const memberships = await query<number>(europe('chatMemberships'), 'SELECT VALUE COUNT(1) FROM c WHERE ARRAY_CONTAINS(@ids, c.threadId)', [{ name: '@ids', value: seeded.expiring }]);
    expect(memberships).toEqual([0]);

    const events = stack.topic!.received().slice(received).map((r) => r.event as { id: string; type: string; data: { threadId?: string } }).filter((e) => ids.has(e.data.threadId ?? ''));
    expect(events.filter((e) => e.type === 'Microsoft.Communication.ChatThreadDeleted')).toHaveLength(THREADS);
    expect(events.filter((e) => e.type === 'Microsoft.Communication.ChatThreadWithUserDeleted')).toHaveLength(2 * THREADS);
    expect(events).toHaveLength(3 * THREADS);
    expect(new Set(events.map((e) => e.id)).size).toBe(3 * THREADS);
    const audit = await query<string>(europe('auditRecords'), "SELECT VALUE c.subjectId FROM c WHERE c.resourceId = @r AND c.action = 'chatThread.purged'", [{ name: '@r', value: resource.id }]);
    expect(audit.sort()).toEqual([...seeded.expiring].sort());

    const [run] = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention;
    // Each thread with its 8 items (thread, 2 participants, 5 messages); 1 item for the resource's old logs, 1 per geography for finished requests.
    const items = THREADS + 1 + 2;
    expect(run).toMatchObject({ status: 'succeeded', planning: 'done', planned: items, done: items, settled: items, failed: 0, errors: 0, deleted: { chatThreads: THREADS, chatItems: 8 * THREADS } });
    const [workAfter, secondAfter] = await completed('chatRetentionWork');
    expect(workAfter - workBefore + (secondAfter - secondBefore)).toBe(items);
    expect(workAfter - workBefore).toBeGreaterThan(0);
    expect(secondAfter - secondBefore).toBeGreaterThan(0);
  });

  it('a privacy request completes with exact counts while its steps (one per work item) run on both hosts', { timeout: 120_000 }, async () => {
    const [carol, dave] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await carol.chat.createChatThread({ topic: 'dsr' }, { participants: [{ id: userRef(dave) }] })).chatThread!.id;
    for (let i = 0; i < 35; i += 1) await carol.thread(threadId).sendMessage({ content: `carol ${i}` });
    await dave.thread(threadId).sendMessage({ content: 'dave' });
    const [before, secondBefore] = await completed('privacyWork');

    const privacy = new PrivacyClient(() => stack, resource);
    const view = await privacy.run('delete', { identityIds: [carol.id] });

    expect(view.status).toBe('succeeded');
    expect(view.counts.chatMessage).toEqual({ found: 35, held: 0, deleted: 35 });
    expect(view.counts.identity).toEqual({ found: 1, held: 0, deleted: 1 });
    const left = await query<{ type: string }>(europe('chatThreads'), "SELECT c.type FROM c WHERE c.threadId = @t AND c.kind = 'message' AND c.type = 'text'", [{ name: '@t', value: threadId }]);
    expect(left).toEqual([{ type: 'text' }]);
    const [after, secondAfter] = await completed('privacyWork');
    // One step per work item: a page of 10 messages is 4 steps alone.
    expect(after - before + (secondAfter - secondBefore)).toBeGreaterThan(10);
    expect(after - before).toBeGreaterThan(0);
    expect(secondAfter - secondBefore).toBeGreaterThan(0);
  });

  it('a resource deleted through one host while the other takes it from its cache: sends there are taken until the deletion erases, then nothing of it is left', async () => {
    const doomed = await stack.createResource('two-hosts-doomed', 'Japan');
    const user = await createChatUser(stack, doomed);
    const threadId = (await user.chat.createChatThread({ topic: 'doomed' })).chatThread!.id;
    // The second host reads the resource now, and keeps it for RESOURCE_CACHE_MS.
    expect((await send(second.httpUrl, user, threadId, 'first', doomed.name)).status).toBe(201);
    const deletion = stack.management('DELETE', `/api/management/resources/${doomed.name}`);
    while ((await services().registry.getByName(doomed.name))!.resource.state !== 'deleting') await new Promise((resolve) => setTimeout(resolve, 20));
    // Marked: the other host still takes it from its cache; the host that deletes refuses at once.
    expect((await send(second.httpUrl, user, threadId, 'meanwhile', doomed.name)).status).toBe(201);
    expect((await send(stack.httpUrl, user, threadId, 'refused', doomed.name)).status).toBe(401);
    const deleted = await deletion;
    expect(deleted.status, deleted.text).toBe(200);

    // Nothing in Japan's stores names it but the published outbox entry of its own deletion event.
    const japan = cosmos().database('acs-japan');
    const { resources: containers } = await japan.containers.readAll().fetchAll();
    const left: { container: string; item: Record<string, any> }[] = [];
    for (const { id } of containers) {
      const { resources: items } = await japan.container(id).items.readAll<Record<string, any>>().fetchAll();
      left.push(...items.filter((item) => JSON.stringify(item).includes(doomed.id)).map((item) => ({ container: id, item })));
    }
    expect(left.map(({ container, item }) => `${container} ${item.status} ${item.events?.map((e: { type: string }) => e.type)}`)).toEqual(['outbox published AcsResidency.ResourceDeleted']);
    // Once the second host's entry has expired it reads the registry again: the resource is gone.
    expect((await send(second.httpUrl, user, threadId, 'after', doomed.name)).status).toBe(401);
  });
});
