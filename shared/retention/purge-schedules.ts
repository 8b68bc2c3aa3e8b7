/**
 * The purge timers' schedules (six-field NCRONTAB, UTC), each overridable by an app setting. The
 * timer functions register with them and the run-status API computes when each was due from them.
 */
export const PURGE_KINDS = ['chatRetention', 'recordingPurge'] as const;
export type PurgeKind = (typeof PURGE_KINDS)[number];

const SCHEDULES: Record<PurgeKind, { setting: string; fallback: string }> = {
  chatRetention: { setting: 'RETENTION_PURGE_SCHEDULE', fallback: '0 0 * * * *' },
  recordingPurge: { setting: 'RECORDING_PURGE_SCHEDULE', fallback: '0 */15 * * * *' },
};

export function purgeSchedule(kind: PurgeKind, env: Record<string, string | undefined> = process.env): string {
  return env[SCHEDULES[kind].setting] || SCHEDULES[kind].fallback;
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
