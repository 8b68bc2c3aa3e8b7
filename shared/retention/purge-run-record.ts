import type { PurgeKind } from './purge-schedules.js';

/**
 * A purge run as the control plane keeps it (container `purgeRuns`, partition `/kind`). The timer
 * that plans the run writes it when it starts and counts what it enqueued; the workers, on any
 * instance, count what each work item came to. No personal data: counts, opaque ids of what a hold
 * kept, errors as counts and our own messages.
 */
export interface HeldItem {
  resourceId: string;
  subjectType: 'chatThread' | 'recording';
  subjectId: string;
  holdIds: string[];
}

/** What one work item came to. */
export type ItemResult = 'done' | 'held' | 'failed';

export interface ItemOutcome {
  result: ItemResult;
  /** What it deleted, by kind (`chatThreads`, `chatItems`, `recordings`, ...). */
  deleted?: Record<string, number>;
  /** What a hold kept (listed in the run, up to MAX_LISTED_HELD). */
  held?: HeldItem;
}

export interface PurgeRunRecord {
  id: string;
  kind: PurgeKind;
  /** `running` until the planning is over and every work item it planned has settled. */
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  /** `running` while the timer pages through what is due; `failed` if it stopped half-way. */
  planning: 'running' | 'done' | 'failed';
  plannedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  /** Work items enqueued. */
  planned: number;
  /** Work items that deleted what they were for, or found it already gone or no longer due. */
  done: number;
  /** Items kept for a legal hold: found by the planner (not enqueued) or by a worker. */
  held: number;
  /** Work items that failed maxDequeueCount times and went to the poison queue. */
  failed: number;
  /**
   * Work items settled (done, failed, or held by a worker): the run is over when this reaches
   * `planned`. While the run drains, a redelivered item may count twice here; the counts are made
   * exact from the item markers when the run ends.
   */
  settled: number;
  /** Of `held`, what the planner found held (not enqueued). */
  heldAtPlanning: number;
  deleted: Record<string, number>;
  /** What holds kept (the first MAX_LISTED_HELD; `skippedForHoldCount` counts them all). */
  skippedForHold: HeldItem[];
  skippedForHoldCount: number;
  /** Failed work items plus planning failures. */
  errors: number;
  /** When a work item last settled (or the planning last moved): a run without progress for long is stalled. */
  lastProgressAt: string;
  failure?: string;
}

/** How many held items a record lists (the count is always complete). */
export const MAX_LISTED_HELD = 200;

/** A run with no progress for this long is taken as stalled (its work items lost or its planner dead). */
export const PURGE_STALL_MS = 15 * 60_000;

/** The kinds each purge's work items delete, counted from 0 so workers can increment them. */
export const DELETED_KINDS: Record<PurgeKind, string[]> = {
  chatRetention: ['chatThreads', 'chatItems', 'operationLogs', 'privacyRequests', 'privacyResults'],
  recordingPurge: ['recordings', 'landingFiles'],
};

export function newRun(kind: PurgeKind, id: string, at: string): PurgeRunRecord {
  return {
    id,
    kind,
    status: 'running',
    startedAt: at,
    planning: 'running',
    planned: 0,
    done: 0,
    held: 0,
    failed: 0,
    settled: 0,
    heldAtPlanning: 0,
    deleted: Object.fromEntries(DELETED_KINDS[kind].map((k) => [k, 0])),
    skippedForHold: [],
    skippedForHoldCount: 0,
    errors: 0,
    lastProgressAt: at,
  };
}

/** Whether a run's planning is over and every item it planned has settled. */
export const isComplete = (run: PurgeRunRecord) => run.planning !== 'running' && run.settled >= run.planned;

/** How a complete run ends: failed if its planning failed or a work item went to the poison queue. */
export function ending(run: PurgeRunRecord): Pick<PurgeRunRecord, 'status' | 'failure'> {
  // A failed planning always carries its failure (finishPlanning and reconcile set both together).
  if (run.planning === 'failed') return { status: 'failed', failure: run.failure };
  if (run.failed > 0) return { status: 'failed', failure: `${run.failed} work item(s) failed on every attempt and went to the poison queue; what they were for is planned again by the next run.` };
  return { status: 'succeeded' };
}

/** The record as the management API shows it: no Cosmos system fields, no zero counts of deleted kinds. */
export function publicRun(stored: PurgeRunRecord & Record<string, unknown>): PurgeRunRecord {
  const view = Object.fromEntries(Object.entries(stored).filter(([key]) => !key.startsWith('_'))) as unknown as PurgeRunRecord;
  return { ...view, deleted: Object.fromEntries(Object.entries(view.deleted ?? {}).filter(([, n]) => n > 0)) };
}
