import type { PurgeRunRecord } from './purge-run-record.js';
import { timerSchedule } from '../timer-schedules.js';
import { dueTimesBetween, type PurgeKind } from './purge-schedules.js';

/** A run due by the schedule counts as missed this long after it was due (here and in purge-run-status.ts). */
export const MISSED_GRACE_MS = 5 * 60_000;
/** A run that starts up to this long before a due time (clock skew between instances) counts for it. */
const EARLY_MS = 60_000;
/** How far back due times are examined: the listed runs' span, but at most a week. */
export const MISSED_LOOKBACK_MS = 7 * 86_400_000;
/** Due times examined per purge, at most (a week of a schedule that runs every minute). */
const MAX_DUE_TIMES = 10_080;

/**
 * The times a purge was due by its schedule and no run started, over the span of the runs the
 * management API lists (from the oldest one's start, or a week ago if that is earlier, until now,
 * less the grace): the gaps the
 * console's chart marks. A due time is covered by a run that started within [due - 1 min, due +
 * grace], or by a run that was still going at that time (its planner leaves the schedule to it, see
 * README, Retention and purges). Oldest first; at most `limit`, the latest ones.
 */
export function missedDueTimes(dueTimes: Date[], runs: Pick<PurgeRunRecord, 'startedAt' | 'finishedAt' | 'status'>[], now: Date, limit: number): string[] {
  const spans = runs.map((run) => ({
    start: Date.parse(run.startedAt),
    end: run.finishedAt ? Date.parse(run.finishedAt) : run.status === 'running' ? now.getTime() : Date.parse(run.startedAt),
  }));
  const missed = dueTimes
    .map((due) => due.getTime())
    .filter((due) => due + MISSED_GRACE_MS < now.getTime())
    .filter((due) => !spans.some((s) => (s.start >= due - EARLY_MS && s.start <= due + MISSED_GRACE_MS) || (s.start < due && s.end > due)));
  return missed.slice(-limit).map((t) => new Date(t).toISOString());
}

/** The missed due times of one purge, over its listed runs (none when it has no run yet). */
export async function missedRuns(kind: PurgeKind, runs: PurgeRunRecord[], now: Date, env: Record<string, string | undefined> = process.env, limit = 50): Promise<string[]> {
  if (runs.length === 0) return [];
  const oldest = runs.reduce((a, b) => (a.startedAt <= b.startedAt ? a : b));
  const from = new Date(Math.max(Date.parse(oldest.startedAt), now.getTime() - MISSED_LOOKBACK_MS));
  const due = await dueTimesBetween(timerSchedule(kind, env), from, now, MAX_DUE_TIMES);
  return missedDueTimes(due, runs, now, limit);
}
