import { services } from '../../shared/services.js';

/**
 * Writes the publication marks this process's outboxes keep (shared/events/published-marks.ts): a
 * send's outbox entry, in its thread's partition, is deleted once its mark is written, within
 * OUTBOX_MARK_DELAY_MS or with the thread's next change. For a test that compares what a partition
 * holds before and after, so a mark written in between does not count as a change.
 */
export async function writeMarks(): Promise<void> {
  const svc = services();
  for (const geo of svc.stores.all()) await svc.outboxFor(geo).flushMarks();
}
