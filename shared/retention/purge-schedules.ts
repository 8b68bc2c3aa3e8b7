import { timerSchedule } from '../timer-schedules.js';

/**
 * The purge timers' schedules (six-field NCRONTAB, UTC), each an app setting (shared/timer-schedules.ts):
 * the timers register with references to them, and the run-status API computes from them when each was due.
 */
export const PURGE_KINDS = ['chatRetention', 'recordingPurge'] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];

export function purgeSchedule(kind: PurgeKind, env: Record<string, string | undefined> = process.env): string {
  return timerSchedule(kind, env);
}

/** The first time after `after` that the schedule falls due (undefined for a schedule that never does); croner is imported on first use. */
export async function nextDue(schedule: string, after: Date): Promise<Date | undefined> {
  const { Cron } = await import('croner');
  return new Cron(schedule, { paused: true, timezone: 'UTC' }).nextRun(after) ?? undefined;
}

/** The times the schedule falls due after `after` and up to `until` (at most `max` of them, oldest first). */
export async function dueTimesBetween(schedule: string, after: Date, until: Date, max: number): Promise<Date[]> {
  const { Cron } = await import('croner');
  const cron = new Cron(schedule, { paused: true, timezone: 'UTC' });
  const times: Date[] = [];
  let from = after;
  while (times.length < max) {
    const next = cron.nextRun(from);
    if (!next || next.getTime() > until.getTime()) break;
    times.push(next);
    from = next;
  }
  return times;
}
