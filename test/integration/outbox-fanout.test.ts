import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { expandRecipients, type EventDraft } from '../../shared/events/event-record.js';
import type { ChangeSet, OutboxEntry } from '../../shared/events/outbox.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { createServices, type Services } from '../../shared/services.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * A large fan-out whose publish outlasts the publish timeout: the attempt is cancelled when the time
 * is up (nothing of it is sent afterwards), its progress is kept per accepted batch, and the retry
 * sends only what the topic had not accepted. Real stack: embedded Cosmos, the real
 * EventGridPublisherClient, the local topic (slowed down with its test hook).
 *
 * Real time is what is tested here: the publish timeout is a timer and the topic holds a request for
 * real milliseconds, neither of which the manual clock moves. The waits below are bounded by a count
 * of polls, not by a wall-clock deadline; what the manual clock governs (when an entry is due for the
 * republisher) is moved instead of waited for.
 */
const TIMEOUT_MS = 2_500;
const HOLD_MS = 5_000;

let stack: TestStack;
let svc: Services;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  // The host shares the manual clock, so its own republisher (every 30 s) finds nothing due until the test says so.
  stack = await startTestStack({ clock, env: { OUTBOX_PUBLISH_TIMEOUT_MS: String(TIMEOUT_MS) } });
  svc = createServices(parseSettings(stack.env), { clock });
});
afterAll(async () => {
  svc?.dispose();
  await stack?.stop();
});

const resourceId = '00000000-0000-4000-8000-0000000fa000';
const geo = () => svc.stores.forGeography(geographyByKey('europe'));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 20 per-recipient events to 250 recipients: 5 000 events, 5 batches of 1 000. */
function fanOut(changeId: string): ChangeSet {
  const recipients = Array.from({ length: 250 }, (_, n) => `8:acs:${resourceId}_${changeId}-${String(n).padStart(4, '0')}`);
  const events: EventDraft[] = Array.from({ length: 20 }, (_, n) => ({
    type: 'Test.FanOut',
    subject: `thread/${changeId}/${n}`,
    data: { sequence: n, message: 'some text' },
    perRecipient: {},
  }));
  return { resourceId, eventSource: `/resources/${resourceId}`, payloadMode: 'full', ops: [], events, recipients, changeId };
}

async function readEntry(id: string): Promise<OutboxEntry> {
  const { resource } = await (await geo().container('outbox')).item(id, resourceId).read<OutboxEntry>();
  return resource!;
}

/** How many times the topic has received each of the ids (the topic keeps the newest 10 000). */
function receivedCounts(ids: string[]): Map<string, number> {
  const wanted = new Set(ids);
  const counts = new Map<string, number>();
  for (const r of stack.topic!.received()) {
    const id = r.event.id as string;
    if (wanted.has(id)) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

const cancelledLines = () => stack.logs.filter((line) => line.includes('of a request its client cancelled'));

/**
 * Waits until the topic has let go of `count` cancelled requests in all (each is held HOLD_MS of real
 * time), polling at most (HOLD_MS + 10 s) / 100 ms times; the callers then check the count.
 */
async function untilCancelled(count: number): Promise<void> {
  for (let polls = 0; polls < (HOLD_MS + 10_000) / 100 && cancelledLines().length < count; polls += 1) await sleep(100);
}

describe('publishing a large fan-out that outlasts the publish timeout', () => {
  it('cancels the timed-out attempt, keeps its progress, and the republisher sends only the rest: every event once', async () => {
    const change = fanOut('fanout-drain');
    stack.topic!.clear();

    // Two batches go through at once; every later request is held longer than the attempt lasts.
    stack.topic!.slowDown({ afterRequests: 2, delayMs: HOLD_MS });
    const started = Date.now();
    const events = await svc.outboxFor(geo()).commit(change);
    const elapsed = Date.now() - started;
    const ids = expandRecipients(events, change.recipients).map((e) => e.id);
    expect(new Set(ids).size).toBe(5_000);

    // The attempt ended at the timeout, not when the held request would have been answered.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(HOLD_MS);
    // Nothing is sent after the attempt has ended: the count right after it is the count once the held request ran out.
    const atTimeout = receivedCounts(ids);
    await untilCancelled(1);
    // A short real-time window in which a send that ignored the abort would still arrive.
    await sleep(500);
    expect(receivedCounts(ids).size).toBe(atTimeout.size);
    // And that is exactly the first two batches, once each.
    expect(atTimeout.size).toBe(2_000);
    expect([...atTimeout.keys()]).toEqual(ids.slice(0, 2_000));
    expect(stack.topic!.received().filter((r) => ids.includes(r.event.id as string))).toHaveLength(2_000);
    // The third batch was in flight at the timeout: its request was cancelled, so the topic did not take it.
    expect(cancelledLines()).toHaveLength(1);
    expect(cancelledLines()[0]).toContain('1000 event(s)');
    // What the attempt recorded: its failure, and the 2 000 events the topic accepted.
    const afterAttempt = await readEntry(change.changeId!);
    expect(afterAttempt).toMatchObject({ status: 'applied', attempts: 1, publishedCount: 2_000 });
    expect(afterAttempt.lastError).toMatch(/timed out/);

    // The republisher's drain (the host's own timer function, run now) sends the remaining 3 000. A run
    // asked for while the schedule's own run is under way runs after it (one run was enough in three
    // runs of this file); it is asked again, a little later, until the entry is published.
    stack.topic!.slowDown();
    const start = clock.now();
    let finished: OutboxEntry;
    try {
      // Due for the republisher at once: the clock moves past the entry's next attempt.
      clock.advance(10 * 60_000);
      for (let runs = 0; runs < 200 && (await readEntry(change.changeId!)).status !== 'published'; runs += 1) {
        if (runs > 0) await sleep(200);
        const run = await fetch(`${stack.httpUrl}/admin/functions/outboxRepublish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(run.status).toBe(202);
        await stack.idle();
      }
      finished = await readEntry(change.changeId!);
    } finally {
      clock.set(start);
    }

    expect(finished.status).toBe('published');
    // Progress was written after the retry's first two batches (3 000, 4 000), not after its last.
    expect(finished).toMatchObject({ ops: [], attempts: 1, publishedCount: 4_000 });
    expect(finished.events.every((e) => !('message' in e.data))).toBe(true);
    const counts = receivedCounts(ids);
    expect(counts.size).toBe(5_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect([...counts.keys()]).toEqual(ids);
  });

  it('a duplicate commit of a timed-out change sends only what was not yet accepted', async () => {
    const change = fanOut('fanout-duplicate');
    stack.topic!.clear();
    const before = cancelledLines().length;
    stack.topic!.slowDown({ afterRequests: 1, delayMs: HOLD_MS });
    const events = await svc.outboxFor(geo()).commit(change);
    const ids = expandRecipients(events, change.recipients).map((e) => e.id);
    expect(receivedCounts(ids).size).toBe(1_000);
    expect(await readEntry(change.changeId!)).toMatchObject({ status: 'applied', publishedCount: 1_000 });

    // The same change committed again (a retried request with the same stable id) finishes the entry.
    stack.topic!.slowDown();
    const again = await svc.outboxFor(geo()).commit(change);
    expect(again.map((e) => e.id)).toEqual(events.map((e) => e.id));
    expect(await readEntry(change.changeId!)).toMatchObject({ status: 'published' });
    const counts = receivedCounts(ids);
    expect(counts.size).toBe(5_000);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);

    // The request held at the timeout runs out later and is not accepted: still once each.
    await untilCancelled(before + 1);
    await sleep(500);
    expect(cancelledLines().length - before).toBe(1);
    expect([...receivedCounts(ids).values()].every((n) => n === 1)).toBe(true);
  });
});
