/**
 * The schedules of the background timers that read a setting (six-field NCRONTAB), read when the
 * function files register them. Kept apart from the planners so that registering a timer loads
 * nothing else (see shared/lazy-handler.ts); the purges' schedules are in retention/purge-schedules.ts.
 */

/** The privacy planner timer's schedule (six-field NCRONTAB): every 10 seconds unless PRIVACY_WORKER_SCHEDULE says otherwise. */
export function privacyWorkerSchedule(env: Record<string, string | undefined> = process.env): string {
  return env.PRIVACY_WORKER_SCHEDULE || '*/10 * * * * *';
}

/** When the republish planner runs: OUTBOX_REPUBLISH_SCHEDULE (NCRONTAB), every 30 seconds by default. */
export function outboxRepublishSchedule(env: Record<string, string | undefined> = process.env): string {
  return env.OUTBOX_REPUBLISH_SCHEDULE || '*/30 * * * * *';
}

/** The scheduler's six-field NCRONTAB schedule: EMAIL_DELIVERY_SCHEDULE, every 30 seconds by default (read when the function file loads). */
export function emailDeliverySchedule(env: Record<string, string | undefined> = process.env): string {
  return env.EMAIL_DELIVERY_SCHEDULE || '*/30 * * * * *';
}
