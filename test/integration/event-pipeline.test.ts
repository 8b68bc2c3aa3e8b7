import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  // The republisher runs when the test asks (a scheduled run at the same moment would skip the asked-for one).
  stack = await startTestStack({ clock, env: { OUTBOX_REPUBLISH_SCHEDULE: '0 0 0 1 1 *' } });
});
afterAll(async () => {
  await stack?.stop();
});

const sendTest = (resource: ResourceView, body: unknown) =>
  stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/events/:sendTest', key: resource.primaryKey, body: JSON.stringify(body), date: clock.now() });

const receivedIds = () => stack.topic!.received().map((r) => r.event.id as string);

describe('event pipeline', () => {
  it('publishes CloudEvents 1.0 through the real publisher client to the topic', async () => {
    const resource = await stack.createResource('events-basic', 'Europe');
    const created = stack.topic!.received().find((r) => r.event.type === 'AcsResidency.ResourceCreated' && (r.event.data as { resourceId: string }).resourceId === resource.id);
    expect(created?.schema).toBe('CloudEvents');
    expect(created?.event).toMatchObject({ specversion: '1.0', source: `/resources/${resource.id}`, subject: `resource/${resource.id}` });

    const sent = await sendTest(resource, { count: 2, label: 'hello' });
    expect(sent.status).toBe(202);
    const ids = sent.body.events.map((e: { id: string }) => e.id);
    const received = stack.topic!.received().filter((r) => ids.includes(r.event.id));
    expect(received).toHaveLength(2);
    expect(received[0]!.event.data).toMatchObject({ resourceId: resource.id, label: 'hello' });
    const data = received.map((r) => r.event.data as { sequence: number }).sort((a, b) => a.sequence - b.sequence);
    expect(data).toEqual([
      { resourceId: resource.id, sequence: 0, label: 'hello' },
      { resourceId: resource.id, sequence: 1, label: 'hello' },
    ]);
  });

  it('leaves content out of minimal payloads', async () => {
    const resource = await stack.createResource('events-minimal', 'Europe', { eventPayloads: 'minimal' });
    const sent = await sendTest(resource, { count: 1, label: 'private words' });
    expect(sent.status).toBe(202);
    const event = stack.topic!.received().find((r) => r.event.id === sent.body.events[0].id)!;
    expect(event.event.data).toEqual({ resourceId: resource.id, sequence: 0 });
  });

  it('loses nothing while the topic is down: every event arrives after it is back, with the same ids, once', async () => {
    const resource = await stack.createResource('events-outage', 'Europe');
    await stack.topic!.stop();
    const receivedBeforeOutage = stack.topic!.received().length;
    const start = clock.now();
    try {
      const sent = await sendTest(resource, { count: 3 });
      expect(sent.status).toBe(202);
      const japan = await stack.createResource('events-outage-jp', 'Japan');
      const deleted = await stack.management('DELETE', '/api/management/resources/events-outage');
      expect(deleted.status).toBe(200);
      // The sendTest entry waits for the topic; the ResourceCreated entry (published before the outage) is removed.
      expect(deleted.body.eventsAwaitingPublication).toBe(1);
      expect(deleted.body.removed.cosmos).toMatchObject({ outbox: 1, operationLogs: 1 });

      const expected: string[] = sent.body.events.map((e: { id: string }) => e.id);
      expect(receivedIds().filter((id) => expected.includes(id))).toEqual([]);
      expect(stack.topic!.received()).toHaveLength(receivedBeforeOutage);

      await stack.topic!.start();
      clock.advance(10 * 60_000);
      const run = await fetch(`${stack.httpUrl}/admin/functions/outboxRepublish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(run.status).toBe(202);
      await stack.idle();

      const ids = receivedIds();
      for (const id of expected) expect(ids.filter((x) => x === id)).toHaveLength(1);
      const types = stack.topic!.received().map((r) => `${r.event.type}:${(r.event.data as { resourceId?: string }).resourceId}`);
      expect(types).toContain(`AcsResidency.ResourceCreated:${japan.id}`);
      expect(types).toContain(`AcsResidency.ResourceDeleted:${resource.id}`);
      // What arrived after the outage is exactly what was held back, once each.
      const afterOutage = stack.topic!.received().slice(receivedBeforeOutage);
      expect(afterOutage.map((r) => `${r.event.type}:${(r.event.data as { resourceId?: string }).resourceId}`).sort()).toEqual(
        [
          `AcsResidency.TestEvent:${resource.id}`,
          `AcsResidency.TestEvent:${resource.id}`,
          `AcsResidency.TestEvent:${resource.id}`,
          `AcsResidency.ResourceDeleted:${resource.id}`,
          `AcsResidency.ResourceCreated:${japan.id}`,
        ].sort(),
      );
      expect(afterOutage.filter((r) => r.event.type === 'AcsResidency.TestEvent').map((r) => r.event.id).sort()).toEqual([...expected].sort());

      // A second run finds nothing left to send.
      const before = stack.topic!.received().length;
      clock.advance(10 * 60_000);
      const again = await fetch(`${stack.httpUrl}/admin/functions/outboxRepublish`, { method: 'POST' });
      expect(again.status).toBe(202);
      await stack.idle();
      expect(stack.topic!.received().length).toBe(before);
    } finally {
      clock.set(start);
    }
  });
});
