import type { Container } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { Outbox, type ChangeSet, type OutboxEntry } from '../../shared/events/outbox.js';
import { PublishedMarks } from '../../shared/events/published-marks.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { capturedLogger } from '../support/captured-logger.js';
import { QUIET_STORES_ENV, startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * Publication marks written later (ChangeSet.markPublishedLater, shared/events/published-marks.ts),
 * on an outbox of the test's own over the stack's stores and topic: a mark rides in the batch that
 * creates the next entry of its resource (at most 99 are taken); alone, it is written after the delay;
 * a mark whose entry is gone changes nothing for the others or the new entry; and a mark that could not
 * be written leaves its entry to the republisher, whose events then go out again with the same ids.
 */
let stack: TestStack;
let outboxContainer: Container;
const RESOURCE = '0a0b0c0d-0e0f-4101-8202-030405060708';

beforeAll(async () => {
  stack = await startTestStack({ env: { ...QUIET_STORES_ENV } });
  outboxContainer = await europe().container('outbox');
});
afterAll(async () => stack?.stop());

const europe = () => services().stores.forGeography(geographyByKey('europe'));

function outbox(options: { markDelayMs?: number; container?: () => Promise<Container> } = {}) {
  const { logger, lines } = capturedLogger();
  const geo = europe();
  const seen = options.container ? new Proxy(geo, { get: (target, prop) => (prop === 'container' ? options.container : Reflect.get(target, prop, target)) }) : geo;
  const box = new Outbox({ geo: seen, control: services().control, publisher: services().publisher, clock: new ManualClock('2026-06-01T12:00:00.000Z'), logger, publishTimeoutMs: 5_000, markDelayMs: options.markDelayMs ?? 60_000 });
  return { box, lines };
}

let changes = 0;
/** A change of one document in the outbox's own partition, with one event, its publication recorded later. */
function change(resourceId = RESOURCE): ChangeSet & { changeId: string } {
  const changeId = `marks-${(changes += 1)}-${Date.now()}`;
  return {
    changeId,
    resourceId,
    eventSource: `/resources/${resourceId}`,
    payloadMode: 'full',
    ops: [{ op: 'upsert', target: { plane: 'geo', container: 'auditRecords' }, partitionKey: resourceId, item: { id: `doc-${changeId}`, resourceId } as { id: string } }],
    events: [{ type: 'Test.Marked', subject: changeId, data: { resourceId, text: 'content' } }],
    markPublishedLater: true,
  };
}
/**
 * The outbox container with its transactional batches refused, failing with `error` and `code`; an
 * item `refuses` names (every item when absent) answers only a patch, failing the same way; everything
 * else as it is.
 */
function refusing(error: string, code: number, refuses: (id: string) => boolean = () => true): Container {
  const refuse = () => Promise.reject(Object.assign(new Error(error), { code }));
  return new Proxy(outboxContainer, {
    get: (target, prop) => {
      if (prop === 'items') return new Proxy(target.items, { get: (items, name) => (name === 'batch' ? refuse : Reflect.get(items, name, items)) });
      if (prop === 'item') return (id: string, key: string) => (refuses(id) ? { patch: refuse } : target.item(id, key));
      return Reflect.get(target, prop, target);
    },
  });
}
const entry = async (id: string, resourceId = RESOURCE) => (await outboxContainer.item(id, resourceId).read<OutboxEntry>()).resource;
const requests = () => stack.cosmosRequests!();

describe('publication marks written later', () => {
  it('ride in the batch that creates the next entry of the resource, at no store request more', async () => {
    const { box } = outbox();
    const first = change();
    await box.commit(first);
    expect((await entry(first.changeId))?.status).toBe('pending');
    expect(stack.topic!.received().filter((r) => (r.event as { subject?: string }).subject === first.changeId)).toHaveLength(1);

    const second = change();
    const before = requests();
    await box.commit(second);
    // The entry with the first's mark (one batch) and the document: 2.
    expect(requests() - before).toBe(2);
    expect(await entry(first.changeId)).toMatchObject({ status: 'published', ops: [], publishedAt: '2026-06-01T12:00:00.000Z' });
    expect((await entry(second.changeId))?.status).toBe('pending');
    // Another resource's change takes none of this resource's marks (they are in another partition).
    const other = change('1a0b0c0d-0e0f-4101-8202-030405060708');
    await box.commit(other);
    expect((await entry(second.changeId))?.status).toBe('pending');
    await box.flushMarks();
    expect((await entry(second.changeId))?.status).toBe('published');
    expect((await entry(other.changeId, other.resourceId))?.status).toBe('published');
  });

  it('are written alone after the delay when no change of the resource comes, each at its own time', async () => {
    const { box } = outbox({ markDelayMs: 400 });
    const older = change();
    await box.commit(older);
    const olderAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 250));
    // A change of another resource: it takes none of the older mark, and its own is younger.
    const younger = change('2a0b0c0d-0e0f-4101-8202-030405060708');
    await box.commit(younger);
    const youngerAt = performance.now();
    const published = async (c: ChangeSet & { changeId: string }) => (await entry(c.changeId, c.resourceId))?.status === 'published';
    while (!(await published(older)) && performance.now() - olderAt < 5_000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await published(older)).toBe(true);
    // The timer that wrote the older mark (about 150 ms after the younger was kept) left the younger
    // one to its own time: it is written no sooner than the delay after it was kept (less the few
    // microseconds between keeping it and the commit's return).
    while (!(await published(younger)) && performance.now() - youngerAt < 5_000) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await published(younger)).toBe(true);
    expect(performance.now() - youngerAt).toBeGreaterThanOrEqual(390);
  });

  it('are taken at most 99 for one entry\'s batch; the rest are written by the flush, 100 to a batch', async () => {
    const marks = new PublishedMarks({ container: async () => outboxContainer, logger: capturedLogger().logger, geographyKey: 'europe', delayMs: 60_000 });
    const ids = Array.from({ length: 150 }, (_, i) => `planted-${Date.now()}-${i}`);
    for (const id of ids) {
      await outboxContainer.items.create({ id, resourceId: RESOURCE, status: 'pending', createdAt: '2026-06-01T12:00:00.000Z', ops: [], events: [], attempts: 0, nextAttemptAt: '2026-06-01T12:00:00.000Z' });
      marks.add({ id, resourceId: RESOURCE, operations: [{ op: 'set', path: '/status', value: 'published' }] });
    }
    expect(marks.size).toBe(150);
    expect(marks.take({ container: 'outbox', partitionKey: 'another resource' })).toEqual([]);
    const taken = marks.take({ container: 'outbox', partitionKey: RESOURCE });
    expect(taken.map((m) => m.id)).toEqual(ids.slice(0, 99));
    expect(marks.size).toBe(51);
    const before = requests();
    await marks.flush();
    expect(requests() - before).toBe(1);
    expect(marks.size).toBe(0);
    const statuses = await Promise.all(ids.map(async (id) => (await entry(id))?.status));
    expect(statuses).toEqual([...Array(99).fill('pending'), ...Array(51).fill('published')]);
  });

  it('that fail one by one do not keep the others from being written', async () => {
    const ids = [`one-fails-${Date.now()}`, `one-written-${Date.now()}`];
    for (const id of ids) await outboxContainer.items.create({ id, resourceId: RESOURCE, status: 'pending', createdAt: '2026-06-01T12:00:00.000Z', ops: [], events: [], attempts: 0, nextAttemptAt: '2026-06-01T12:00:00.000Z' });
    // The batch fails as a whole; then the first entry's own patch fails too, the second's goes through.
    const flaky = refusing('throttled', 429, (id) => id === ids[0]);
    const { logger, lines } = capturedLogger();
    const marks = new PublishedMarks({ container: async () => flaky, logger, geographyKey: 'europe', delayMs: 60_000 });
    for (const id of ids) marks.add({ id, resourceId: RESOURCE, operations: [{ op: 'set', path: '/status', value: 'published' }] });
    await marks.flush();
    expect(await Promise.all(ids.map(async (id) => (await entry(id))?.status))).toEqual(['pending', 'published']);
    expect(lines).toEqual([{ level: 'warn', event: 'outbox.mark_not_recorded', geography: 'europe', resourceId: RESOURCE, count: 1, detail: 'throttled' }]);
  });

  it('of an entry gone meanwhile change nothing for the new entry or the other marks', async () => {
    const { box, lines } = outbox();
    const [a, b] = [change(), change()];
    await box.commit(a);
    // Pruned, or erased with its resource, before the next change takes its mark.
    await outboxContainer.item(a.changeId, RESOURCE).delete();
    const before = requests();
    await box.commit(b);
    // The batch (refused: a's patch finds nothing), a's mark alone (nothing), b's entry alone, b's document.
    expect(requests() - before).toBe(4);
    expect(await entry(a.changeId)).toBeUndefined();
    expect((await entry(b.changeId))?.status).toBe('pending');
    await box.commit(change());
    expect((await entry(b.changeId))?.status).toBe('published');
    expect(lines.filter((l) => l.event === 'outbox.mark_not_recorded')).toEqual([]);
    await box.flushMarks();
  });

  it('that cannot be written leave the entry to the republisher, which sends its events again with the same ids', async () => {
    const { box, lines } = outbox({ container: async () => refusing('store unavailable', 503) });
    const lost = change();
    await box.commit(lost);
    await box.flushMarks();
    expect(lines.filter((l) => l.event === 'outbox.mark_not_recorded')).toEqual([
      { level: 'warn', event: 'outbox.mark_not_recorded', geography: 'europe', resourceId: RESOURCE, count: 1, detail: 'store unavailable' },
    ]);
    expect((await entry(lost.changeId))?.status).toBe('pending');
    const sent = () => stack.topic!.received().filter((r) => (r.event as { subject?: string }).subject === lost.changeId).map((r) => (r.event as { id: string }).id);
    expect(sent()).toHaveLength(1);
    // Another instance's republisher, once the grace is over.
    const { box: republisher } = outbox();
    expect(await republisher.drain({ graceMs: 0, maxEntries: 500 })).toMatchObject({ failed: 0 });
    expect((await entry(lost.changeId))?.status).toBe('published');
    expect(sent()).toEqual([sent()[0], sent()[0]]);
  });
});
