import type { Item, PatchOperation } from '@azure/cosmos';
import type { Logger } from '../telemetry/logger.js';
import type { EventPublisher } from './event-publisher.js';
import { expandRecipients, redactForMinimal, type EventRecord } from './event-record.js';
import type { OutboxEntry } from './outbox.js';

/**
 * One publishing attempt of an outbox entry: bounded in time, cancelled when the time is up, and
 * resumable. A large fan-out (a 200-person add into a full thread is over 40 000 per-recipient
 * events) goes out in bounded batches; after each accepted batch the entry records how many of its
 * expanded events the topic has accepted (`publishedCount`), so a later attempt sends only the rest.
 */
export interface PublishAttempt {
  publisher: EventPublisher;
  geographyKey: string;
  timeoutMs: number;
  /** Records that the first `count` expanded events were accepted (only called while more remain). */
  recordProgress(count: number): Promise<void>;
}

type Publishable = Pick<OutboxEntry, 'events' | 'recipients' | 'publishedCount'>;

/**
 * The events an entry publishes, in a fixed order: its events in order, each per-recipient event
 * expanded in the order of the entry's recipients (both stored arrays, so every attempt expands the
 * same way); less the first `publishedCount`, which the topic already accepted.
 */
export function eventsToPublish(entry: Publishable): { total: number; skipped: number; remaining: EventRecord[] } {
  const all = expandRecipients(entry.events, entry.recipients);
  const skipped = Math.min(Math.max(0, Math.floor(entry.publishedCount ?? 0)), all.length);
  return { total: all.length, skipped, remaining: all.slice(skipped) };
}

/**
 * Publishes what the entry has not yet published. Rejects when the publisher fails or the time is up;
 * either way the publish is aborted first, so nothing of this attempt is sent after it has ended (the
 * batch in flight at that moment is cancelled; the topic may have taken it before, so a retry may
 * repeat at most that batch, with the same ids). `entry.publishedCount` follows the progress.
 */
export async function publishRemaining(entry: Publishable, attempt: PublishAttempt): Promise<void> {
  const { total, skipped, remaining } = eventsToPublish(entry);
  if (remaining.length === 0) return;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new Error(`Publishing timed out after ${attempt.timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, attempt.timeoutMs);
  });
  const publishing = attempt.publisher.publish(attempt.geographyKey, remaining, {
    abortSignal: controller.signal,
    onAccepted: async (acceptedSoFar) => {
      const count = skipped + acceptedSoFar;
      entry.publishedCount = count;
      // Only while more remain: a change published in one batch costs no extra write.
      if (count < total) await attempt.recordProgress(count);
    },
  });
  // An aborted publish rejects after the timeout has ended the attempt; that outcome is the timeout's.
  publishing.catch(() => undefined);
  try {
    await Promise.race([publishing, timedOut]);
  } finally {
    clearTimeout(timer);
    controller.abort(new Error('The publishing attempt has ended'));
  }
}

/**
 * Writes an entry's progress: only forwards (a concurrent attempt may be further along) and never on
 * a published entry. A failed write is logged and publishing goes on; a retry then repeats from the
 * progress last written, with the same ids, which receivers deduplicate.
 */
export async function writeProgress(item: Item, entry: Pick<OutboxEntry, 'resourceId'>, count: number, logger: Logger): Promise<void> {
  if (!Number.isSafeInteger(count) || count <= 0) return;
  try {
    await item.patch({
      condition: `FROM c WHERE c.status != "published" AND (NOT IS_DEFINED(c.publishedCount) OR c.publishedCount < ${count})`,
      operations: [{ op: 'set', path: '/publishedCount', value: count }],
    });
  } catch (error) {
    if ((error as { code?: number }).code === 412) return;
    logger.warn('outbox.progress_not_recorded', { resourceId: entry.resourceId, count, detail: error instanceof Error ? error.message : String(error) });
  }
}

/**
 * Marks the entry published (in memory) and answers the one patch that records it so. Once
 * published, the entry keeps its events' ids and shapes but not their content (message text, topics,
 * names), so deleting or editing a message leaves no copy of the old text here; the operations are
 * dropped too (they are applied).
 */
export function markPublished(entry: OutboxEntry, at: Date): PatchOperation[] {
  entry.status = 'published';
  entry.publishedAt = at.toISOString();
  return [
    { op: 'set', path: '/status', value: 'published' },
    { op: 'set', path: '/ops', value: [] },
    { op: 'set', path: '/publishedAt', value: entry.publishedAt },
    { op: 'set', path: '/events', value: entry.events.map((e) => ({ ...e, data: redactForMinimal(e.data) })) },
  ];
}
