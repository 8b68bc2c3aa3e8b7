import type { Container, OperationInput, PatchOperation } from '@azure/cosmos';
import { chunks, MAX_BATCH_OPERATIONS, runBatch, type BatchOutcome } from '../stores/cosmos-batch.js';
import type { Logger } from '../telemetry/logger.js';
import { homeKey, homeOf, type EntryHome, type EntryRef } from './entry-home.js';

/** The patch that records one outbox entry as published, or its deletion (an entry in a thread's partition), to be written later. */
export interface PublishedMark extends EntryRef {
  operations: PatchOperation[] | 'delete';
}

export interface PublishedMarksDeps {
  /** The container of an entry's home (entry-home.ts). */
  container: (name: EntryHome['container']) => Promise<Container>;
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
 * extra store request; an entry kept in a chat thread's partition, a send's, rides with the thread's
 * next send), or is written after `delayMs`, a partition's marks 100 to a batch. Until its
 * mark is written an entry reads as pending and still holds the change's operations and full events
 * (a message's text, for one); if the instance dies first, the republisher publishes its events again
 * after the in-flight grace, with the same ids (receivers deduplicate on `id`), as for any change
 * whose publication was not recorded.
 */
export class PublishedMarks {
  /** Per partition (homeKey), oldest first, each with the time it was kept (monotonic milliseconds). */
  readonly #pending = new Map<string, { home: EntryHome; marks: { mark: PublishedMark; at: number }[] }>();
  #timer?: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: PublishedMarksDeps) {}

  /** Keeps a mark until the next entry of its partition, or `delayMs`. */
  add(mark: PublishedMark): void {
    const kept = { mark, at: performance.now() };
    const home = homeOf(mark);
    const place = this.#pending.get(homeKey(home));
    if (place) place.marks.push(kept);
    else this.#pending.set(homeKey(home), { home, marks: [kept] });
    this.#timer ??= this.#arm(this.deps.delayMs);
  }

  /**
   * Takes up to `max` marks of a partition (the oldest), to be written in the batch of a new entry;
   * never the mark of entry `exceptId` (a change committed again must not take along the deletion of
   * the entry that makes it a duplicate): that one stays, in its place.
   */
  take(home: EntryHome, max = MAX_BATCH_OPERATIONS - 1, exceptId?: string): PublishedMark[] {
    const place = this.#pending.get(homeKey(home));
    if (!place || max <= 0) return [];
    const taken: PublishedMark[] = [];
    const left: typeof place.marks = [];
    for (const kept of place.marks) {
      if (taken.length < max && kept.mark.id !== exceptId) taken.push(kept.mark);
      else left.push(kept);
    }
    if (left.length === 0) this.#pending.delete(homeKey(home));
    else place.marks = left;
    return taken;
  }

  /** How many marks wait to be written. */
  get size(): number {
    let count = 0;
    for (const place of this.#pending.values()) count += place.marks.length;
    return count;
  }

  /**
   * Writes every mark kept (with `home`, that partition's only), each partition's in batches of 100
   * (one by one when a batch is refused). Never throws.
   */
  flush(home?: EntryHome): Promise<void> {
    // None kept for that partition: only the writes already under way (a deletion may flush it on every purge).
    if (home && !this.#pending.has(homeKey(home))) return this.#flushing;
    return this.#write(() => true, home && homeKey(home));
  }

  /** The timer: writes the marks kept `delayMs` or longer; the younger ones wait for their own time. */
  #flushDue(): void {
    const due = performance.now() - this.deps.delayMs;
    void this.#write((at) => at <= due);
  }

  #write(chosen: (at: number) => boolean, only?: string): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const writing: [EntryHome, PublishedMark[]][] = [];
    let oldestLeft = Infinity;
    for (const [key, { home, marks }] of this.#pending) {
      // Oldest first: the chosen ones are the front of the list.
      const count = only === undefined || key === only ? marks.findIndex(({ at }) => !chosen(at)) : 0;
      const taken = marks.splice(0, count === -1 ? marks.length : count);
      if (taken.length > 0) writing.push([home, taken.map(({ mark }) => mark)]);
      if (marks.length === 0) this.#pending.delete(key);
      else oldestLeft = Math.min(oldestLeft, marks[0]!.at);
    }
    if (oldestLeft !== Infinity) this.#timer = this.#arm(Math.max(0, oldestLeft + this.deps.delayMs - performance.now()));
    this.#flushing = this.#flushing.then(async () => {
      for (const [home, marks] of writing) for (const run of chunks(marks)) await this.writeBatch(home, run, []);
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
  async writeBatch(home: EntryHome, marks: PublishedMark[], first: OperationInput[]): Promise<BatchOutcome> {
    let outcome: BatchOutcome = 'unknown';
    let failed = 0;
    let detail = '';
    try {
      const container = await this.deps.container(home.container);
      const writes = marks.map(({ id, operations }): OperationInput => (operations === 'delete' ? { operationType: 'Delete', id } : { operationType: 'Patch', id, resourceBody: operations }));
      outcome = await runBatch(container, home.partitionKey, [...first, ...writes]);
      if (outcome === 'applied') return outcome;
      for (const mark of marks) {
        try {
          const item = container.item(mark.id, home.partitionKey);
          await (mark.operations === 'delete' ? item.delete() : item.patch(mark.operations));
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
    if (failed > 0) this.deps.logger.warn('outbox.mark_not_recorded', { geography: this.deps.geographyKey, resourceId: marks[0]!.resourceId, count: failed, detail });
    return outcome;
  }
}
