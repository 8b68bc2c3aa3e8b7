import { describe, expect, it, vi } from 'vitest';
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

/**
 * Accepts `batch` events per call of onAccepted, optionally failing or hanging at a batch. `calls`
 * holds each publish call's own promise, so a test can wait until a call has really ended.
 */
function fakePublisher(batch: number, options: { failAt?: number; hangAt?: number } = {}) {
  const sent: string[] = [];
  const signals: AbortSignal[] = [];
  const calls: Promise<void>[] = [];
  const publisher: EventPublisher = {
    publish(_geo: string, events: EventRecord[], { abortSignal, onAccepted }: PublishOptions = {}) {
      if (abortSignal) signals.push(abortSignal);
      const call = (async () => {
        for (let i = 0, n = 0; i < events.length; i += batch, n++) {
          abortSignal?.throwIfAborted();
          if (n === options.failAt) throw new Error('topic said no');
          if (n === options.hangAt) await new Promise((_, reject) => abortSignal?.addEventListener('abort', () => reject(abortSignal.reason as Error)));
          sent.push(...events.slice(i, i + batch).map((e) => e.id));
          await onAccepted?.(Math.min(i + batch, events.length));
        }
      })();
      calls.push(call);
      return call;
    },
  };
  return { publisher, sent, signals, calls };
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

  it('aborts a publish that outlasts the timeout, at the timeout and not before, and nothing more is sent', async () => {
    // The timeout is a timer: fake timers move it exactly instead of waiting for it.
    vi.useFakeTimers();
    try {
      const progress: number[] = [];
      const slow = entry();
      const fake = fakePublisher(2, { hangAt: 1 });
      let outcome: string | undefined;
      const settled = publishRemaining(slow, attempt(fake.publisher, progress, 100)).then(
        () => (outcome = 'resolved'),
        (error: Error) => (outcome = error.message),
      );
      await vi.advanceTimersByTimeAsync(99);
      expect(outcome).toBeUndefined();
      expect(fake.signals[0]!.aborted).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await settled;
      expect(outcome).toBe('Publishing timed out after 100 ms');
      expect(fake.signals[0]!.aborted).toBe(true);
      // The publisher's call itself has ended, by the abort: nothing of this attempt can be sent later.
      expect(fake.calls).toHaveLength(1);
      await expect(fake.calls[0]).rejects.toThrow('Publishing timed out after 100 ms');
      expect(fake.sent).toEqual(eventsToPublish(entry()).remaining.slice(0, 2).map((e) => e.id));
      expect(progress).toEqual([2]);
      expect(slow.publishedCount).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('batches by count as well as by size', () => {
    const events = Array.from({ length: 2 * MAX_BATCH_EVENTS + 500 }, (_, n) => event(String(n)));
    expect(batchesBySize(events, 900 * 1024).map((b) => b.length)).toEqual([1_000, 1_000, 500]);
    expect(batchesBySize(events, 900 * 1024).flat()).toEqual(events);
  });
});
