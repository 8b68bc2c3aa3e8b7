import type { Container, OperationInput, PatchOperation } from '@azure/cosmos';
import { chunks, MAX_BATCH_OPERATIONS, runBatch, type BatchOutcome } from '../stores/cosmos-batch.js';
import type { Logger } from '../telemetry/logger.js';

/** The patch that records one outbox entry as published, to be written later. */
export interface PublishedMark {
  id: string;
  resourceId: string;
  operations: PatchOperation[];
}

export interface PublishedMarksDeps {
  outbox: () => Promise<Container>;
  logger: Logger;
  geographyKey: string;
  /** How long a mark waits for the next entry of its partition before it is written alone. */
  delayMs: number;
}

/**
 * Marks of published outbox entries not yet written (for changes that ask for it, the chat send): the
 * request that published the events does not wait for the write. A mark rides in the transactional
 * batch that creates the next entry of its partition, whatever that change is (the outbox is
 * partitioned by resource, so a resource's next change takes its earlier changes' marks along, at no
 * extra store request), or is written after `delayMs`, a partition's marks 100 to a batch. Until its
 * mark is written an entry reads as pending and still holds the change's operations and full events
 * (a message's text, for one); if the instance dies first, the republisher publishes its events again
 * after the in-flight grace, with the same ids (receivers deduplicate on `id`), as for any change
 * whose publication was not recorded.
 */
export class PublishedMarks {
  /** Per partition, oldest first, each with the time it was kept (monotonic milliseconds). */
  readonly #pending = new Map<string, { mark: PublishedMark; at: number }[]>();
  #timer?: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PublishedMarksDeps) {}

  /** Keeps a mark until the next entry of its partition, or `delayMs`. */
  add(mark: PublishedMark): void {
    const kept = { mark, at: performance.now() };
    const marks = this.#pending.get(mark.resourceId);
    if (marks) marks.push(kept);
    else this.#pending.set(mark.resourceId, [kept]);
    this.#timer ??= this.#arm(this.deps.delayMs);
  }

  /** Takes up to `max` marks of a partition (the oldest), to be written in the batch of a new entry. */
  take(resourceId: string, max = MAX_BATCH_OPERATIONS - 1): PublishedMark[] {
    const marks = this.#pending.get(resourceId);
    if (!marks) return [];
    const taken = marks.splice(0, max);
    if (marks.length === 0) this.#pending.delete(resourceId);
    return taken.map(({ mark }) => mark);
  }

  /** How many marks wait to be written. */
  get size(): number {
    let count = 0;
    for (const marks of this.#pending.values()) count += marks.length;
    return count;
  }

  /** Writes every mark kept, each partition's in batches of 100 (one by one when a batch is refused). Never throws. */
  flush(): Promise<void> {
    return this.#write(() => true);
  }

  /** The timer: writes the marks kept `delayMs` or longer; the younger ones wait for their own time. */
  #flushDue(): void {
    const due = performance.now() - this.deps.delayMs;
    void this.#write((at) => at <= due);
  }

  #write(chosen: (at: number) => boolean): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const writing: [string, PublishedMark[]][] = [];
    let oldestLeft = Infinity;
    for (const [resourceId, marks] of this.#pending) {
      // Oldest first: the chosen ones are the front of the list.
      const count = marks.findIndex(({ at }) => !chosen(at));
      const taken = marks.splice(0, count === -1 ? marks.length : count);
      if (taken.length > 0) writing.push([resourceId, taken.map(({ mark }) => mark)]);
      if (marks.length === 0) this.#pending.delete(resourceId);
      else oldestLeft = Math.min(oldestLeft, marks[0]!.at);
    }
    if (oldestLeft !== Infinity) this.#timer = this.#arm(Math.max(0, oldestLeft + this.deps.delayMs - performance.now()));
    this.#flushing = this.#flushing.then(async () => {
      for (const [resourceId, marks] of writing) for (const run of chunks(marks)) await this.writeBatch(resourceId, run, []);
    });
    return this.#flushing;
  }

  #arm(ms: number): NodeJS.Timeout {
    return setTimeout(() => this.#flushDue(), ms).unref();
  }

  /**
   * Writes marks of one partition in one transactional batch after `first` (other operations of the
   * same batch, such as a new entry's create) and answers the batch's outcome. Unless it was applied,
   * the marks are then written one by one (an entry pruned meanwhile is skipped), and what became of
   * `first` is the caller's to find out (refused: nothing of it; unknown: maybe). Never throws; a
   * failure to reach the store answers `unknown`.
   */
  async writeBatch(resourceId: string, marks: PublishedMark[], first: OperationInput[]): Promise<BatchOutcome> {
    let outcome: BatchOutcome = 'unknown';
    let failed = 0;
    let detail = '';
    try {
      const outbox = await this.deps.outbox();
      const patches = marks.map((mark): OperationInput => ({ operationType: 'Patch', id: mark.id, resourceBody: mark.operations }));
      outcome = await runBatch(outbox, resourceId, [...first, ...patches]);
      if (outcome === 'applied') return outcome;
      for (const mark of marks) {
        try {
          await outbox.item(mark.id, mark.resourceId).patch(mark.operations);
        } catch (error) {
          if ((error as { code?: number }).code === 404) continue;
          failed += 1;
          detail = error instanceof Error ? error.message : String(error);
        }
      }
    } catch (error) {
      failed = marks.length;
      detail = error instanceof Error ? error.message : String(error);
    }
    // Those entries stay pending: the republisher publishes them again after the grace, with the same ids.
    if (failed > 0) this.deps.logger.warn('outbox.mark_not_recorded', { geography: this.deps.geographyKey, resourceId, count: failed, detail });
    return outcome;
  }
}
