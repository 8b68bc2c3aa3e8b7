import type { PatchOperation } from '@azure/cosmos';
import type { ItemOutcome } from './purge-run-record.js';

/** A run as its record is addressed. */
export interface RunRef {
  id: string;
  kind: string;
}

/** Increments of a run's counters: the first settlement of one or more work items. */
export interface RunCounts {
  settled: number;
  done: number;
  held: number;
  failed: number;
  errors: number;
  skippedForHoldCount: number;
  deleted: Record<string, number>;
}

/** Cosmos takes at most 10 operations in one patch. */
const MAX_PATCH_OPERATIONS = 10;

/** What one work item's first settlement adds to its run's counters. */
export function countsOf(outcome: ItemOutcome): RunCounts {
  return {
    settled: 1,
    done: outcome.result === 'done' ? 1 : 0,
    held: outcome.result === 'held' ? 1 : 0,
    failed: outcome.result === 'failed' ? 1 : 0,
    errors: outcome.result === 'failed' ? 1 : 0,
    skippedForHoldCount: outcome.held ? 1 : 0,
    deleted: Object.fromEntries(Object.entries(outcome.deleted ?? {}).filter(([, n]) => n > 0)),
  };
}

function add(into: RunCounts, counts: RunCounts): void {
  for (const field of ['settled', 'done', 'held', 'failed', 'errors', 'skippedForHoldCount'] as const) into[field] += counts[field];
  for (const [kind, n] of Object.entries(counts.deleted)) into.deleted[kind] = (into.deleted[kind] ?? 0) + n;
}

/**
 * The increments as patches of at most 10 operations each, `settled` and the stamp in the last one:
 * a reader that sees the run settled also sees the counts that came with it.
 */
export function incrementPatches(counts: RunCounts, at: string): PatchOperation[][] {
  const increments: PatchOperation[] = [
    ...(['done', 'held', 'failed', 'errors', 'skippedForHoldCount'] as const).filter((field) => counts[field] > 0).map((field): PatchOperation => ({ op: 'incr', path: `/${field}`, value: counts[field] })),
    ...Object.entries(counts.deleted).map(([kind, n]): PatchOperation => ({ op: 'incr', path: `/deleted/${kind}`, value: n })),
  ];
  const last: PatchOperation[] = [{ op: 'incr', path: '/settled', value: counts.settled }, { op: 'set', path: '/lastProgressAt', value: at }];
  const room = MAX_PATCH_OPERATIONS - last.length;
  const patches: PatchOperation[][] = [];
  while (increments.length > room) patches.push(increments.splice(0, MAX_PATCH_OPERATIONS));
  patches.push([...increments, ...last]);
  return patches;
}

interface Group<R extends RunRef> {
  run: R;
  counts: RunCounts;
  waiters: { resolve: () => void; reject: (error: unknown) => void }[];
}

/**
 * Group commit of a run's counters on one instance: the work items of a run that settle within
 * `windowMs` of the first of them are counted with one patch of their summed increments (one store
 * request for the group instead of one per item, and fewer writes to the one run record every
 * instance increments). Each item waits for the write that carries its counts, so when its work
 * item is acknowledged its counts are stored: an instance that dies loses none. If the write fails,
 * every item of the group gets the error (its work item is delivered again, finds its marker, and
 * the run's exact counts come from the markers when it ends).
 */
export class RunCountGroups<R extends RunRef> {
  readonly #open = new Map<string, Group<R>>();

  constructor(private readonly deps: { windowMs: number; write: (run: R, counts: RunCounts) => Promise<void> }) {}

  /** Adds the counts to the run's open group (opening one if none is); resolves once they are written. */
  count(run: R, counts: RunCounts): Promise<void> {
    const key = `${run.kind}\u0000${run.id}`;
    let group = this.#open.get(key);
    if (!group) {
      const opened: Group<R> = { run, counts: { settled: 0, done: 0, held: 0, failed: 0, errors: 0, skippedForHoldCount: 0, deleted: {} }, waiters: [] };
      this.#open.set(key, opened);
      setTimeout(() => {
        this.#open.delete(key);
        this.deps.write(opened.run, opened.counts).then(
          () => opened.waiters.forEach((w) => w.resolve()),
          (error: unknown) => opened.waiters.forEach((w) => w.reject(error)),
        );
      }, this.deps.windowMs);
      group = opened;
    }
    add(group.counts, counts);
    const joined = group;
    return new Promise<void>((resolve, reject) => joined.waiters.push({ resolve, reject }));
  }
}
