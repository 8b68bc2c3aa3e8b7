/**
 * The purge timers and when their schedules (app settings: `timerSchedule` in shared/timer-schedules.ts)
 * fall due, from which the run-status API and the console compute when each run was due.
 */
export const PURGE_KINDS = ['chatRetention', 'recordingPurge'] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];

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
