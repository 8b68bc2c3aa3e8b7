import * as z from 'zod';

/**
 * How long a resource's data of each kind lives. Chat threads: deleted after 30 idle days by
 * default, as in ACS (a thread's own retention policy can delete it sooner). Recordings: ACS keeps
 * them at most 48 hours after creation, so a resource may choose a shorter period but never a longer one.
 */
export const RECORDING_MAX_HOURS = 48;

const days = (name: string, min: number, max: number) =>
  z
    .number({ error: `${name} must be a whole number of days` })
    .int(`${name} must be a whole number of days`)
    .min(min, `${name} must be between ${min} and ${max}`)
    .max(max, `${name} must be between ${min} and ${max}`);

export const retentionSettingsSchema = z.strictObject({
  /** A chat thread with no activity (message, edit, participant or property change) for this long is deleted; 0 keeps threads until they are deleted. */
  idleThreadDays: days('idleThreadDays', 0, 3650),
  /** Operational log records are kept this long. */
  logDays: days('logDays', 1, 3650),
  recordingHours: z
    .number({ error: 'recordingHours must be a whole number of hours' })
    .int('recordingHours must be a whole number of hours')
    .min(1, 'recordingHours must be at least 1')
    .max(RECORDING_MAX_HOURS, `recordingHours must be at most ${RECORDING_MAX_HOURS}: recordings are kept at most ${RECORDING_MAX_HOURS} hours`),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const DEFAULT_RETENTION: RetentionSettings = { idleThreadDays: 30, logDays: 30, recordingHours: RECORDING_MAX_HOURS };

/** A change to some of the settings (the management API's PUT merges it into the current ones). */
export const retentionChangeSchema = retentionSettingsSchema.partial();
export type RetentionChange = z.infer<typeof retentionChangeSchema>;

/** The settings in force: the resource's choices over the defaults. */
export function effectiveRetention(chosen: RetentionChange | undefined): RetentionSettings {
  return { ...DEFAULT_RETENTION, ...chosen };
}
