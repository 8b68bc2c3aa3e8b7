import { z } from 'zod';

/**
 * How long a resource's data of each kind lives. Recordings: ACS keeps them at most 48 hours after
 * creation, so a resource may choose a shorter period but never a longer one.
 */
export const RECORDING_MAX_HOURS = 48;

export const retentionSettingsSchema = z.strictObject({
  recordingHours: z
    .number({ error: 'recordingHours must be a whole number of hours' })
    .int('recordingHours must be a whole number of hours')
    .min(1, 'recordingHours must be at least 1')
    .max(RECORDING_MAX_HOURS, `recordingHours must be at most ${RECORDING_MAX_HOURS}: recordings are kept at most ${RECORDING_MAX_HOURS} hours`),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const DEFAULT_RETENTION: RetentionSettings = { recordingHours: RECORDING_MAX_HOURS };

/** A change to some of the settings (the management API's PUT merges it into the current ones). */
export const retentionChangeSchema = retentionSettingsSchema.partial();
export type RetentionChange = z.infer<typeof retentionChangeSchema>;

/** The settings in force: the resource's choices over the defaults. */
export function effectiveRetention(chosen: RetentionChange | undefined): RetentionSettings {
  return { ...DEFAULT_RETENTION, ...chosen };
}
