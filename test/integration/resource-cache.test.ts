import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newMessageRecord } from '../../shared/chat/chat-records.js';
import { findGeography, geographyByKey } from '../../shared/geography/geographies.js';
import { ResourceRegistry } from '../../shared/resources/resource-registry.js';
import { ResourceService } from '../../shared/resources/resource-service.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import { createChatUser } from '../support/chat-users.js';
import { QUIET_STORES_ENV, startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { writeMarks } from '../support/outbox-marks.js';

/**
 * The per-instance resource cache (RESOURCE_CACHE_MS) of ResourceService, on the stack's registry and
 * stores, with wall time and the deletion's wait under the test's control: what is kept, for exactly
 * how long, what is never kept, what a change on this instance forgets at once, and that a deletion
 * waits the cache's time between marking the resource and erasing it, so what a stale instance writes
 * meanwhile goes with the rest.
 */
const TTL = 5_000;
let stack: TestStack;

beforeAll(async () => {
  // A send's publication mark waits (for the resource's next change) until the deletion flushes it.
  stack = await startTestStack({ env: { ...QUIET_STORES_ENV, ENABLED_GEOGRAPHIES: 'Japan', OUTBOX_MARK_DELAY_MS: '60000' } });
});
afterAll(async () => stack?.stop());

/** The registry with its reads counted; `duringRead` runs while a read is under way. */
class CountingRegistry extends ResourceRegistry {
  reads = 0;
  duringRead?: () => void;
  override async getByName(name: string) {
    this.reads += 1;
    this.duringRead?.();
    return super.getByName(name);
  }
}

/** One more instance of the service (its own cache) on the stack's stores, with its own wall time. */
function instance(cacheMs: number, onSleep: () => Promise<void> = async () => {}) {
  const svc = services();
  const registry = new CountingRegistry(svc.control);
  const clock = { wall: 1_000_000 };
  const sleeps: number[] = [];
  const resources = new ResourceService({
    registry,
    stores: svc.stores,
    outboxFor: svc.outboxFor,
    clock: svc.clock,
    enabledGeographies: svc.settings.enabledGeographies,
    cacheMs,
    wallNow: () => clock.wall,
    sleep: async (ms) => {
      sleeps.push(ms);
      await onSleep();
    },
  });
  return { resources, registry, sleeps, advance: (ms: number) => (clock.wall += ms) };
}

let names = 0;
async function created(): Promise<Resource & { view: ResourceView }> {
  const name = `resource-cache-${(names += 1)}`;
  const view = await stack.createResource(name, 'Japan');
  return { ...(await services().resources.get(name)), view };
}

describe('the resource cache of an instance', () => {
  it('takes an active resource from the cache until RESOURCE_CACHE_MS after its read began, then reads again', async () => {
    const { name } = await created();
    const a = instance(TTL);
    // The read itself takes 300 ms of wall time: the entry's age counts from before it.
    a.registry.duringRead = () => a.advance(300);
    expect((await a.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    a.registry.duringRead = undefined;
    expect(a.registry.reads).toBe(1);
    a.advance(TTL - 300 - 1);
    expect((await a.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    expect(a.registry.reads).toBe(1);
    a.advance(1);
    expect((await a.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    expect(a.registry.reads).toBe(2);
    expect((await a.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    expect(a.registry.reads).toBe(2);
  });

  it('is not used without `cached` (requests signed with a key read every time), and keeps nothing with 0', async () => {
    const { name } = await created();
    const a = instance(TTL);
    await a.resources.resolveActive(name);
    await a.resources.resolveActive(name);
    expect(a.registry.reads).toBe(2);
    // Those reads were kept for requests that may use the cache.
    await a.resources.resolveActive(name, { cached: true });
    expect(a.registry.reads).toBe(2);
    const off = instance(0);
    for (let i = 0; i < 3; i += 1) expect((await off.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    expect(off.registry.reads).toBe(3);
  });

  it("shows another instance's change at RESOURCE_CACHE_MS, and this instance's own changes at once", async () => {
    const { name } = await created();
    const a = instance(TTL);
    const b = instance(TTL);
    const first = await a.resources.resolveActive(name, { cached: true });
    const rekeyed = await b.resources.regenerateKey(name, 'primary');
    a.advance(TTL - 1);
    expect((await a.resources.resolveActive(name, { cached: true }))?.keys.primary).toBe(first!.keys.primary);
    a.advance(1);
    expect((await a.resources.resolveActive(name, { cached: true }))?.keys.primary).toBe(rekeyed.keys.primary);
    expect(a.registry.reads).toBe(2);

    const secondary = await a.resources.regenerateKey(name, 'secondary');
    expect((await a.resources.resolveActive(name, { cached: true }))?.keys.secondary).toBe(secondary.keys.secondary);
    expect(a.registry.reads).toBe(4);
    const { resource: minimal } = await a.resources.put(name, { geography: findGeography('Japan')!, eventPayloads: 'minimal' });
    expect(minimal.eventPayloads).toBe('minimal');
    expect((await a.resources.resolveActive(name, { cached: true }))?.eventPayloads).toBe('minimal');
    expect(a.registry.reads).toBe(6);
    // A PUT that changes nothing writes nothing and keeps the entry.
    await a.resources.put(name, { geography: findGeography('Japan')!, eventPayloads: 'minimal' });
    expect((await a.resources.resolveActive(name, { cached: true }))?.eventPayloads).toBe('minimal');
    expect(a.registry.reads).toBe(7);
  });

  it('takes a name in any case as the registry does: one entry, and a change named in another case empties it', async () => {
    const { name } = await created();
    const a = instance(TTL);
    expect((await a.resources.resolveActive(name.toUpperCase(), { cached: true }))?.name).toBe(name);
    expect((await a.resources.resolveActive(name, { cached: true }))?.name).toBe(name);
    expect(a.registry.reads).toBe(1);
    const rekeyed = await a.resources.regenerateKey(name.toUpperCase(), 'secondary');
    expect((await a.resources.resolveActive(name, { cached: true }))?.keys.secondary).toBe(rekeyed.keys.secondary);
    expect(a.registry.reads).toBe(3);
    await a.resources.delete(name.toUpperCase());
    expect(await a.resources.resolveActive(name, { cached: true })).toBeUndefined();
    expect(a.registry.reads).toBe(5);
  });

  it('never keeps an unknown name or a resource that is not active, and drops one a read finds no longer active', async () => {
    const a = instance(TTL);
    const later = `resource-cache-later-${Date.now()}`;
    expect(await a.resources.resolveActive(later, { cached: true })).toBeUndefined();
    await stack.createResource(later, 'Japan');
    expect((await a.resources.resolveActive(later, { cached: true }))?.name).toBe(later);
    expect(a.registry.reads).toBe(2);

    // Marked deleting by another instance: a read that sees it drops what this instance kept.
    const found = (await services().registry.getByName(later))!;
    expect(await services().registry.replace({ ...found.resource, state: 'deleting' }, found.etag)).toBe(true);
    expect(await a.resources.resolveActive(later)).toBeUndefined();
    expect(await a.resources.resolveActive(later, { cached: true })).toBeUndefined();
    expect(await a.resources.resolveActive(later, { cached: true })).toBeUndefined();
    expect(a.registry.reads).toBe(5);
    // A name no resource can have is answered without a read.
    expect(await a.resources.resolveActive('-no-', { cached: true })).toBeUndefined();
    expect(a.registry.reads).toBe(5);
  });
});

describe('deleting a resource', () => {
  it('waits RESOURCE_CACHE_MS between marking it and erasing, and erases what another instance wrote meanwhile', async () => {
    const resource = await created();
    const user = await createChatUser(stack, resource.view);
    const { chatThread } = await user.chat.createChatThread({ topic: 'doomed' });
    const threadId = chatThread!.id;
    await user.thread(threadId).sendMessage({ content: 'before' });
    // The send's outbox entry, in the thread's partition, deleted once its mark is written: before counting.
    await writeMarks();
    const japan = services().stores.forGeography(geographyByKey('japan'));
    const threads = await japan.container('chatThreads');
    const ofResource = async () =>
      (await threads.items.query<{ id: string }>({ query: 'SELECT c.id FROM c WHERE c.resourceId = @id', parameters: [{ name: '@id', value: resource.id }] }).fetchAll()).resources;
    const had = (await ofResource()).length;
    const states: string[] = [];
    const a = instance(TTL, async () => {
      // While it waits: marked, nothing erased yet, and an instance that still takes the resource
      // from its cache writes a message.
      states.push((await services().registry.getByName(resource.name))!.resource.state);
      states.push(`items ${(await ofResource()).length}`);
      const late = newMessageRecord({ threadId, resourceId: resource.id, type: 'text', sequence: 99, createdOn: new Date().toISOString(), senderId: user.id, content: 'meanwhile' });
      await threads.items.upsert(late);
    });
    const report = await a.resources.delete(resource.name);
    expect(a.sleeps).toEqual([TTL]);
    expect(states).toEqual(['deleting', `items ${had}`]);
    // The thread's items as they were, and the message written while it waited; the send's events,
    // published, are not reported as awaiting publication (its entry went with its mark).
    expect(report.removed.cosmos.chatThreads).toBe(had + 1);
    expect(report.eventsAwaitingPublication).toBe(0);
    expect(await ofResource()).toEqual([]);
    // Done: asking again answers the report without waiting again.
    expect(await a.resources.delete(resource.name)).toEqual(report);
    expect(a.sleeps).toEqual([TTL]);
  });

  it('does not wait without a cache', async () => {
    const resource = await created();
    const off = instance(0);
    await off.resources.delete(resource.name);
    expect(off.sleeps).toEqual([]);
    expect((await services().registry.getByName(resource.name))!.resource.state).toBe('deleted');
  });
});
