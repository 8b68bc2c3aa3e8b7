/**
 * The schedules of the background timers (six-field NCRONTAB, UTC), each an app setting. A timer
 * registers with a reference to its setting (`%SETTING%`), which the Functions host resolves when it
 * starts the app, as it does any binding expression: the infrastructure sets every one of them to its
 * default (infra/app/function-app.bicep), and the development host sets the defaults of those unset or
 * empty. Registering a timer reads nothing and loads nothing else (see shared/lazy-handler.ts).
 */
const TIMER_SCHEDULES = {
  /** The chat retention purge planner: hourly. */
  chatRetention: { setting: 'RETENTION_PURGE_SCHEDULE', fallback: '0 0 * * * *' },
  /** The recording purge planner: every 15 minutes. */
  recordingPurge: { setting: 'RECORDING_PURGE_SCHEDULE', fallback: '0 */15 * * * *' },
  /** The privacy planner: every 10 seconds. */
  privacyWorker: { setting: 'PRIVACY_WORKER_SCHEDULE', fallback: '*/10 * * * * *' },
  /** The outbox republish planner: every 30 seconds. */
  outboxRepublish: { setting: 'OUTBOX_REPUBLISH_SCHEDULE', fallback: '*/30 * * * * *' },
  /** The e-mail delivery scheduler: every 30 seconds. */
  emailDelivery: { setting: 'EMAIL_DELIVERY_SCHEDULE', fallback: '*/30 * * * * *' },
  /** SMS housekeeping: every 5 minutes. */
  smsHousekeeping: { setting: 'SMS_HOUSEKEEPING_SCHEDULE', fallback: '0 */5 * * * *' },
  /** WhatsApp housekeeping: every 10 minutes. */
  whatsAppHousekeeping: { setting: 'WHATSAPP_HOUSEKEEPING_SCHEDULE', fallback: '0 */10 * * * *' },
} as const;

export type ScheduledTimer = keyof typeof TIMER_SCHEDULES;

/** What a timer registers with: its setting as a binding expression, resolved by the host at start. */
export const scheduleReference = (timer: ScheduledTimer): string => `%${TIMER_SCHEDULES[timer].setting}%`;

/** The schedule in force: the setting when set and not empty, else the default. */
export function timerSchedule(timer: ScheduledTimer, env: Record<string, string | undefined> = process.env): string {
  const { setting, fallback } = TIMER_SCHEDULES[timer];
  return env[setting] || fallback;
}

/** Every schedule setting with its default value: what the infrastructure sets, and the development host when unset. */
export const SCHEDULE_SETTING_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(Object.values(TIMER_SCHEDULES).map(({ setting, fallback }) => [setting, fallback]));

/**
 * Every schedule setting set to midnight of January 1st, which no test or benchmark run reaches:
 * the scheduled timers stay quiet (for runs that count store requests). The chat deletion sweep has no
 * schedule setting and still runs.
 */
export const SCHEDULED_TIMERS_OFF: Readonly<Record<string, string>> = Object.fromEntries(Object.values(TIMER_SCHEDULES).map(({ setting }) => [setting, '0 0 0 1 1 *']));
