/**
 * The schedules of the background timers that read a setting (six-field NCRONTAB), read when the
 * function files register them: the setting when set and not empty, else the default. Kept apart
 * from the planners so that registering a timer loads nothing else (see shared/lazy-handler.ts);
 * the purges' schedules are in retention/purge-schedules.ts.
 */
const TIMER_SCHEDULES = {
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

export function timerSchedule(timer: keyof typeof TIMER_SCHEDULES, env: Record<string, string | undefined> = process.env): string {
  const { setting, fallback } = TIMER_SCHEDULES[timer];
  return env[setting] || fallback;
}
