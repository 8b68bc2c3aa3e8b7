import { PURGE_STALL_MS, type PurgeRunRecord } from './purge-run-record.js';
import { timerSchedule } from '../timer-schedules.js';
import { nextDue, type PurgeKind } from './purge-schedules.js';
import { MISSED_GRACE_MS } from './missed-runs.js';

/** Whether a purge ran when it was due, as the management API answers it. */
export interface PurgeStatus {
  kind: PurgeKind;
  schedule: string;
  lastRun?: { id: string; status: PurgeRunRecord['status'] | 'stalled'; startedAt: string; finishedAt?: string };
  /** When the next run is due after the last one started. */
  nextDueAt?: string;
  /** True when a run was due (by the schedule, plus a grace) and none started, or the last one failed or stalled. */
  attention: boolean;
  why?: string;
}


/**
 * A run still draining its work items (progress within PURGE_STALL_MS) is no reason for attention,
 * however long ago it started: the next planner leaves the schedule to it. A run with no progress
 * for that long has stalled.
 */
export async function purgeRunStatus(kind: PurgeKind, last: PurgeRunRecord | undefined, now: Date, env: Record<string, string | undefined>): Promise<PurgeStatus> {
  const schedule = timerSchedule(kind, env);
  if (!last) return { kind, schedule, attention: false, why: 'no run recorded yet' };
  const due = await nextDue(schedule, new Date(last.startedAt));
  const running = last.status === 'running';
  const stalled = running && now.getTime() - Date.parse(last.lastProgressAt ?? last.startedAt) > PURGE_STALL_MS;
  const missed = !running && due !== undefined && now.getTime() > due.getTime() + MISSED_GRACE_MS;
  const status: PurgeStatus = {
    kind,
    schedule,
    lastRun: { id: last.id, status: stalled ? 'stalled' : last.status, startedAt: last.startedAt, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) },
    ...(due ? { nextDueAt: due.toISOString() } : {}),
    attention: stalled || missed || last.status === 'failed',
  };
  if (last.status === 'failed') status.why = 'the last run failed';
  else if (stalled) status.why = `the last run has made no progress since ${last.lastProgressAt}`;
  else if (missed) status.why = `a run was due at ${due!.toISOString()} and none started`;
  return status;
}
