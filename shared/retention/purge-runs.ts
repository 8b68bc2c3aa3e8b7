import { randomUUID } from 'node:crypto';
import type { Container, OperationInput, PatchOperation } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import type { ControlStore } from '../stores/control-store.js';
import {
  ending,
  isComplete,
  MAX_LISTED_HELD,
  newRun,
  publicRun,
  PURGE_STALL_MS,
  type HeldItem,
  type ItemOutcome,
  type PurgeRunRecord,
} from './purge-run-record.js';
import { purgeRunStatus, type PurgeStatus } from './purge-run-status.js';
import { countsOf, incrementPatches, RunCountGroups, type RunCounts } from './run-count-groups.js';
import { PURGE_KINDS, type PurgeKind } from './purge-schedules.js';

export type { HeldItem, ItemOutcome, PurgeRunRecord } from './purge-run-record.js';
export type { PurgeStatus } from './purge-run-status.js';

/** How long the first work item of a run settling on an instance waits for others to count with it (PURGE_COUNT_WINDOW_MS). */
export const RUN_COUNT_WINDOW_MS = 50;

type RunKey = Pick<PurgeRunRecord, 'id' | 'kind'>;

/** The condition of every write that counts into a run or ends it: the run has not ended. */
const RUNNING = "FROM c WHERE c.status = 'running'";

/**
 * Purge runs across instances. The planner (a timer, one instance) starts a run, adds what it
 * enqueues page by page, and ends its planning; each work item, on whichever instance runs it,
 * settles once: a marker item (`purgeRunItems`, id = run id and a hash of the item) is created
 * first, so an item the queue delivers again is not counted again, then the run's counters are
 * incremented with an increment patch (no read-modify-write, so concurrent instances never lose
 * an update), one for the items of the run that settle on the instance within RUN_COUNT_WINDOW_MS
 * of each other (run-count-groups.ts), and only while the run is running. Whoever's write completes
 * the run (planning over, every item settled) ends it with the markers' counts, in one transactional
 * batch conditioned on it still running, so it ends once.
 */
export class PurgeRuns {
  readonly #counts: RunCountGroups<RunKey>;

  /** `countWindowMs`: how long the first settling item of a group waits for others (run-count-groups.ts; 50 ms when absent). */
  constructor(private readonly deps: { control: ControlStore; clock: Clock; countWindowMs?: number }) {
    this.#counts = new RunCountGroups({ windowMs: deps.countWindowMs ?? RUN_COUNT_WINDOW_MS, write: (run, counts) => this.#writeCounts(run, counts) });
  }

  /**
   * Starts a run of `kind`, unless the previous one is still draining its work items (then nothing is
   * planned: the same items would be enqueued twice). A previous run without progress for
   * PURGE_STALL_MS is counted again from its markers and ended first.
   */
  async begin(kind: PurgeKind): Promise<{ run: PurgeRunRecord } | { draining: PurgeRunRecord }> {
    const [last] = await this.recent(kind, 1);
    if (last?.status === 'running') {
      if (this.#now().getTime() - Date.parse(last.lastProgressAt) < PURGE_STALL_MS) return { draining: last };
      await this.reconcile(last);
    }
    const at = this.#now().toISOString();
    const run = newRun(kind, `${at}_${randomUUID().slice(0, 8)}`, at);
    const { resource } = await (await this.#runs()).items.create(run);
    return { run: resource as PurgeRunRecord };
  }

  /** The planner enqueued `count` more items and found `held` kept by holds (not enqueued). */
  async addPlanned(run: PurgeRunRecord, count: number, held: HeldItem[] = []): Promise<void> {
    if (count === 0 && held.length === 0) return;
    for (const item of held) await this.#listHeld(run, item);
    await this.#patch(run, [
      { op: 'incr', path: '/planned', value: count },
      { op: 'incr', path: '/held', value: held.length },
      { op: 'incr', path: '/heldAtPlanning', value: held.length },
      { op: 'incr', path: '/skippedForHoldCount', value: held.length },
      { op: 'set', path: '/lastProgressAt', value: this.#now().toISOString() },
    ]);
  }

  /** The planning is over (or failed): the run ends now if every item already settled. */
  async finishPlanning(run: PurgeRunRecord, failure?: string): Promise<PurgeRunRecord | undefined> {
    const at = this.#now().toISOString();
    const updated = await this.#patch(run, [
      { op: 'set', path: '/planning', value: failure === undefined ? 'done' : 'failed' },
      { op: 'set', path: '/plannedAt', value: at },
      { op: 'set', path: '/lastProgressAt', value: at },
      ...(failure === undefined ? [] : ([{ op: 'set', path: '/failure', value: failure.slice(0, 300) }, { op: 'incr', path: '/errors', value: 1 }] as PatchOperation[])),
    ]);
    return updated && this.#endIfComplete(updated);
  }

  /**
   * Counts one work item's outcome into its run, once whatever how often it is delivered; `itemKey`
   * names the item (hashed into the marker's id). False when it was counted before. A delivery that
   * finds its marker still moves `settled` on (an instance may have died between the marker and the
   * increment), so `settled` never stays short; the exact counts come from the markers when the run
   * ends (see #endIfComplete).
   */
  async settle(kind: PurgeKind, runId: string, itemKey: string, outcome: ItemOutcome): Promise<boolean> {
    const markers = await this.deps.control.container('purgeRunItems');
    let first = true;
    try {
      await markers.items.create({ id: `${runId}|${itemKey}`, kind, runId, result: outcome.result, deleted: outcome.deleted ?? {}, ...(outcome.held ? { held: outcome.held } : {}), at: this.#now().toISOString() });
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      first = false;
    }
    const run: RunKey = { id: runId, kind };
    if (first) {
      if (outcome.held) await this.#listHeld(run, outcome.held);
      // With the other items of the run settling on this instance just now: one patch for all of them.
      await this.#counts.count(run, countsOf(outcome));
      return true;
    }
    // A repeated delivery only nudges a run still draining (an ended run keeps its exact counts).
    const updated = await this.#patch(run, [{ op: 'incr', path: '/settled', value: 1 }, { op: 'set', path: '/lastProgressAt', value: this.#now().toISOString() }], RUNNING);
    if (updated) await this.#endIfComplete(updated);
    return false;
  }

  /**
   * Writes the summed increments of a group of first settlements, then ends the run if they complete
   * it. Only while the run is running: an ended run counted these items from their markers already
   * (each marker was created before the end counted the markers: an item whose marker came after
   * could not have been counted as settled).
   */
  async #writeCounts(run: RunKey, counts: RunCounts): Promise<void> {
    let updated: PurgeRunRecord | undefined;
    for (const operations of incrementPatches(counts, this.#now().toISOString())) updated = await this.#patch(run, operations, RUNNING);
    if (updated) await this.#endIfComplete(updated);
  }

  /**
   * A stalled run, counted from its markers and ended: complete (an instance died between a marker
   * and its increment), or failed with what is missing.
   */
  async reconcile(run: PurgeRunRecord): Promise<PurgeRunRecord | undefined> {
    const counted = await this.#counted(run);
    if (isComplete(counted)) return this.#end(counted);
    const missing = counted.planning === 'running' ? 'its planning never finished' : `${counted.planned - counted.settled} of ${counted.planned} work items never settled`;
    // The stall is the run's planning failure: one error, unless its planning had failed (and counted) already.
    const errors = counted.errors + (counted.planning === 'failed' ? 0 : 1);
    return this.#end({ ...counted, planning: 'failed', failure: `Stalled: ${missing}.`, errors });
  }

  /** Once the planning is over and `settled` has reached `planned`, the markers say whether every item really settled; then the run ends with their counts. */
  async #endIfComplete(run: PurgeRunRecord): Promise<PurgeRunRecord> {
    if (run.status !== 'running' || !isComplete(run)) return run;
    const counted = await this.#counted(run);
    return isComplete(counted) ? this.#end(counted) : run;
  }

  /** The run with its counters as its markers have them (each work item once). */
  async #counted(run: PurgeRunRecord): Promise<PurgeRunRecord> {
    const markers = await this.deps.control.container('purgeRunItems');
    const { resources } = await markers.items
      .query<{ result: ItemOutcome['result']; deleted: Record<string, number> }>({ query: 'SELECT c.result, c.deleted FROM c WHERE c.runId = @run', parameters: [{ name: '@run', value: run.id }] })
      .fetchAll();
    const counts = { done: 0, held: 0, failed: 0 };
    const deleted: Record<string, number> = Object.fromEntries(Object.keys(run.deleted).map((k) => [k, 0]));
    for (const marker of resources) {
      counts[marker.result] += 1;
      for (const [k, n] of Object.entries(marker.deleted)) deleted[k] = (deleted[k] ?? 0) + n;
    }
    const held = run.heldAtPlanning + counts.held;
    return { ...run, ...counts, held, skippedForHoldCount: held, settled: resources.length, deleted, errors: counts.failed + (run.planning === 'failed' ? 1 : 0) };
  }

  async recent(kind: PurgeKind, limit: number): Promise<PurgeRunRecord[]> {
    const { resources } = await (await this.#runs()).items
      .query<PurgeRunRecord & Record<string, unknown>>(
        { query: 'SELECT TOP @n * FROM c WHERE c.kind = @kind ORDER BY c.startedAt DESC', parameters: [{ name: '@n', value: limit }, { name: '@kind', value: kind }] },
        { partitionKey: kind },
      )
      .fetchAll();
    return resources.map(publicRun);
  }

  async get(kind: PurgeKind, id: string): Promise<PurgeRunRecord | undefined> {
    const { resource } = await (await this.#runs()).item(id, kind).read<PurgeRunRecord & Record<string, unknown>>();
    return resource ? publicRun(resource) : undefined;
  }

  /** Whether each purge ran when due, from its last run and its schedule. */
  async status(env: Record<string, string | undefined> = process.env): Promise<PurgeStatus[]> {
    const statuses: PurgeStatus[] = [];
    for (const kind of PURGE_KINDS) statuses.push(await purgeRunStatus(kind, (await this.recent(kind, 1))[0], this.#now(), env));
    return statuses;
  }

  /**
   * Ends a run, once: its exact counts and its status in one transactional batch (two patches, a patch
   * holds at most 10 operations), each holding only while the run is still running. So no count
   * lands between them, and none after (RUNNING), and a second end changes nothing.
   */
  async #end(run: PurgeRunRecord): Promise<PurgeRunRecord> {
    const at = this.#now();
    const end = ending(run);
    const counts: PatchOperation[] = [
      ...(['done', 'held', 'failed', 'settled', 'errors', 'skippedForHoldCount'] as const).map((field): PatchOperation => ({ op: 'set', path: `/${field}`, value: run[field] })),
      { op: 'set', path: '/deleted', value: run.deleted },
    ];
    const status: PatchOperation[] = [
      { op: 'set', path: '/status', value: end.status },
      { op: 'set', path: '/planning', value: run.planning },
      { op: 'set', path: '/finishedAt', value: at.toISOString() },
      { op: 'set', path: '/durationMs', value: Math.max(0, at.getTime() - Date.parse(run.startedAt)) },
      ...(end.failure ? [{ op: 'set', path: '/failure', value: end.failure } as PatchOperation] : []),
    ];
    const response = await (await this.#runs()).items.batch(
      [counts, status].map((operations): OperationInput => ({ operationType: 'Patch', id: run.id, resourceBody: { condition: RUNNING, operations } })),
      run.kind,
    );
    const results = response.result ?? [];
    const failed = results.find((result) => result.statusCode >= 400 && result.statusCode !== 424);
    if (!failed && response.code !== 207) return (results.at(-1)?.resourceBody as PurgeRunRecord | undefined) ?? run;
    // Refused as a whole (207): by the operation that failed; the others are 424, not applied.
    const refusal = failed?.statusCode ?? response.code;
    // Another instance ended it first, or a test deleted it.
    if (refusal === 412 || refusal === 404) return run;
    throw Object.assign(new Error(`Ending purge run ${run.id} failed with ${refusal}`), { code: refusal });
  }

  /** Lists a held item while the list is short (the count is kept separately). */
  async #listHeld(run: Pick<PurgeRunRecord, 'id' | 'kind'>, item: HeldItem): Promise<void> {
    try {
      await (await this.#runs()).item(run.id, run.kind).patch({
        condition: `FROM c WHERE ARRAY_LENGTH(c.skippedForHold) < ${MAX_LISTED_HELD}`,
        operations: [{ op: 'add', path: '/skippedForHold/-', value: item }],
      });
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code !== 412 && code !== 404) throw error;
    }
  }

  /** Patches the run; undefined when it is gone (a run record is never deleted, but a test may) or does not meet `condition`. */
  async #patch(run: Pick<PurgeRunRecord, 'id' | 'kind'>, operations: PatchOperation[], condition?: string): Promise<PurgeRunRecord | undefined> {
    try {
      const { resource } = await (await this.#runs()).item(run.id, run.kind).patch<PurgeRunRecord>(condition ? { condition, operations } : operations);
      return resource;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 404 || code === 412) return undefined;
      throw error;
    }
  }

  #runs(): Promise<Container> {
    return this.deps.control.container('purgeRuns');
  }

  #now(): Date {
    return this.deps.clock.now();
  }
}
