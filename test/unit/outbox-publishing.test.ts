import { describe, expect, it } from 'vitest';
import type { EventPublisher, PublishOptions } from '../../shared/events/event-publisher.js';
import type { EventRecord } from '../../shared/events/event-record.js';
import { batchesBySize, MAX_BATCH_EVENTS } from '../../shared/events/eventgrid-publisher.js';
import { eventsToPublish, publishRemaining } from '../../shared/events/outbox-publishing.js';

const event = (id: string, perRecipient?: EventRecord['perRecipient']): EventRecord => ({
  id, type: 'T', source: '/s', subject: `s/${id}`, time: '2026-01-01T00:00:00.000Z', dataVersion: '1.0', data: {}, ...(perRecipient ? { perRecipient } : {}),
});
const entry = (publishedCount?: number) => ({
  events: [event('a', {}), event('b'), event('c', { exclude: ['u2'] })],
  recipients: ['u1', 'u2', 'u3'],
  ...(publishedCount === undefined ? {} : { publishedCount }),
});

/** Accepts `batch` events per call of onAccepted, optionally failing or hanging at a batch. */
function fakePublisher(batch: number, options: { failAt?: number; hangAt?: number } = {}) {
  const sent: string[] = [];
  const signals: AbortSignal[] = [];
  const publisher: EventPublisher = {
    async publish(_geo: string, events: EventRecord[], { abortSignal, onAccepted }: PublishOptions = {}) {
      if (abortSignal) signals.push(abortSignal);
      for (let i = 0, n = 0; i < events.length; i += batch, n++) {
        abortSignal?.throwIfAborted();
        if (n === options.failAt) throw new Error('topic said no');
        if (n === options.hangAt) await new Promise((_, reject) => abortSignal?.addEventListener('abort', () => reject(abortSignal.reason as Error)));
        sent.push(...events.slice(i, i + batch).map((e) => e.id));
        await onAccepted?.(Math.min(i + batch, events.length));
      }
    },
  };
  return { publisher, sent, signals };
}

const attempt = (publisher: EventPublisher, progress: number[], timeoutMs = 1_000) => ({
  publisher, geographyKey: 'europe', timeoutMs, recordProgress: async (count: number) => void progress.push(count),
});

describe('outbox publishing', () => {
  it('expands in a fixed order and skips what was accepted', () => {
    const all = eventsToPublish(entry());
    expect(all.total).toBe(6);
    expect(all.remaining.map((e) => e.subject)).toEqual(['s/a/recipient/u1', 's/a/recipient/u2', 's/a/recipient/u3', 's/b', 's/c/recipient/u1', 's/c/recipient/u3']);
    const rest = eventsToPublish(entry(4));
    expect(rest).toMatchObject({ total: 6, skipped: 4 });
    expect(rest.remaining.map((e) => e.id)).toEqual(all.remaining.slice(4).map((e) => e.id));
    expect(eventsToPublish(entry(99)).remaining).toEqual([]);
  });

  it('records progress only while more remain, so one batch costs no extra write', async () => {
    const progress: number[] = [];
    const one = entry();
    await publishRemaining(one, attempt(fakePublisher(10).publisher, progress));
    expect(progress).toEqual([]);
    expect(one.publishedCount).toBe(6);

    const several = entry(1);
    const { publisher, sent } = fakePublisher(2);
    await publishRemaining(several, attempt(publisher, progress));
    expect(progress).toEqual([3, 5]);
    expect(sent).toEqual(eventsToPublish(entry(1)).remaining.map((e) => e.id));
  });

  it('keeps the progress of a publish that failed part-way, and ends it', async () => {
    const progress: number[] = [];
    const failing = entry();
    const fake = fakePublisher(2, { failAt: 1 });
    await expect(publishRemaining(failing, attempt(fake.publisher, progress))).rejects.toThrow('topic said no');
    expect(failing.publishedCount).toBe(2);
    expect(progress).toEqual([2]);
    expect(fake.signals[0]!.aborted).toBe(true);
  });

  it('aborts a publish that outlasts the timeout, and nothing more is sent', async () => {
    const progress: number[] = [];
    const slow = entry();
    const fake = fakePublisher(2, { hangAt: 1 });
    const started = Date.now();
    await expect(publishRemaining(slow, attempt(fake.publisher, progress, 100))).rejects.toThrow('Publishing timed out after 100 ms');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.signals[0]!.aborted).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fake.sent).toHaveLength(2);
    expect(slow.publishedCount).toBe(2);
  });

  it('batches by count as well as by size', () => {
    const events = Array.from({ length: 2 * MAX_BATCH_EVENTS + 500 }, (_, n) => event(String(n)));
    expect(batchesBySize(events, 900 * 1024).map((b) => b.length)).toEqual([1_000, 1_000, 500]);
    expect(batchesBySize(events, 900 * 1024).flat()).toEqual(events);
  });
});
