import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { stableId } from '../../shared/events/event-record.js';
import type { OutboxEntry } from '../../shared/events/outbox.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { createServices, type Services } from '../../shared/services.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let svc: Services;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  // The host's own republisher never runs: the tests drain themselves, and two drains of one entry publish it twice.
  stack = await startTestStack({ env: { EVENTGRID_SCHEMA: 'EventGrid', OUTBOX_REPUBLISH_SCHEDULE: '0 0 0 1 1 *' } });
  // A second set of services on the same stores: the "process" that crashed and the one that recovers.
  svc = createServices(parseSettings(stack.env), { clock });
});
afterAll(async () => {
  svc?.dispose();
  await stack?.stop();
});

const resourceId = '00000000-0000-4000-8000-000000000001';
const item = (id: string, value: unknown): { id: string } => ({ id, resourceId, status: 'published', value }) as { id: string };

async function plantPendingEntry(id: string, ops: OutboxEntry['ops'], createdAt: Date): Promise<void> {
  const outbox = await svc.stores.forGeography(geographyByKey('europe')).container('outbox');
  const entry: OutboxEntry = {
    id,
    resourceId,
    status: 'pending',
    createdAt: createdAt.toISOString(),
    ops,
    events: [{ id: stableId(id, '0'), type: 'Test.Recovered', source: `/resources/${resourceId}`, subject: 's', time: createdAt.toISOString(), dataVersion: '1.0', data: { resourceId } }],
    attempts: 0,
    nextAttemptAt: createdAt.toISOString(),
  };
  await outbox.items.create(entry);
}

describe('outbox recovery after a crash half-way', () => {
  it('finishes a change whose entry was written but whose operations were not applied, and publishes its event once', async () => {
    const start = clock.now();
    await plantPendingEntry('crashed-1', [
      { op: 'upsert', target: { plane: 'geo', container: 'outbox' }, partitionKey: resourceId, item: item('doc-a', 1) },
    ], start);
    const outbox = svc.outboxFor(svc.stores.forGeography(geographyByKey('europe')));

    // Too young: a request may still be applying it.
    expect(await outbox.drain({ graceMs: 60_000, maxEntries: 10 })).toEqual({ examined: 1, published: 0, failed: 0 });
    try {
      clock.advance(2 * 60_000);
      const result = await outbox.drain({ graceMs: 60_000, maxEntries: 10 });
      expect(result).toEqual({ examined: 1, published: 1, failed: 0 });
    } finally {
      clock.set(start);
    }

    const container = await svc.stores.forGeography(geographyByKey('europe')).container('outbox');
    const { resource: doc } = await container.item('doc-a', resourceId).read<{ value: number; changeStamp: { id: string } }>();
    expect(doc?.value).toBe(1);
    expect(doc?.changeStamp.id).toBe('crashed-1');
    const { resource: entry } = await container.item('crashed-1', resourceId).read<OutboxEntry>();
    expect(entry).toMatchObject({ status: 'published', ops: [] });

    const delivered = stack.topic!.received().filter((r) => r.event.id === stableId('crashed-1', '0'));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.schema).toBe('EventGrid');
    expect(delivered[0]!.event).toMatchObject({ eventType: 'Test.Recovered', dataVersion: '1.0' });
  });

  it('does not let a redo overwrite a newer change to the same item', async () => {
    const old = new Date(clock.now().getTime() - 5 * 60_000);
    const container = await svc.stores.forGeography(geographyByKey('europe')).container('outbox');
    await container.items.upsert({ id: 'doc-b', resourceId, status: 'published', value: 'newer', changeStamp: { id: 'later', at: clock.now().toISOString() } });
    await plantPendingEntry('crashed-2', [
      { op: 'upsert', target: { plane: 'geo', container: 'outbox' }, partitionKey: resourceId, item: item('doc-b', 'older') },
      { op: 'upsert', target: { plane: 'geo', container: 'outbox' }, partitionKey: resourceId, item: item('doc-c', 'older') },
    ], old);
    const result = await svc.outboxFor(svc.stores.forGeography(geographyByKey('europe'))).drain({ graceMs: 60_000, maxEntries: 10 });
    expect(result).toEqual({ examined: 1, published: 1, failed: 0 });
    expect((await container.item('doc-b', resourceId).read<{ value: string }>()).resource?.value).toBe('newer');
    expect((await container.item('doc-c', resourceId).read<{ value: string }>()).resource?.value).toBe('older');
    // The newer change's stamp stays on doc-b; the redo stamped only what it wrote.
    expect((await container.item('doc-b', resourceId).read<{ changeStamp: { id: string } }>()).resource?.changeStamp.id).toBe('later');
    expect((await container.item('doc-c', resourceId).read<{ changeStamp: { id: string } }>()).resource?.changeStamp.id).toBe('crashed-2');
    expect((await container.item('crashed-2', resourceId).read<OutboxEntry>()).resource).toMatchObject({ status: 'published', ops: [] });
    expect(stack.topic!.received().filter((r) => r.event.id === stableId('crashed-2', '0'))).toHaveLength(1);
  });
});
