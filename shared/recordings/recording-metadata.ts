import * as z from 'zod';

/**
 * What a recording's producer tells us about it, in the upload's `metadata` part or in the
 * `recording` metadata of a landing blob: the call, when and how long, who took part, and how it was
 * recorded. Field names and enums follow ACS (`RecordingFileStatusUpdated`, the recording metadata
 * document).
 */
export const RECORDING_CONTENT_TYPES = ['Audio', 'AudioVideo'] as const;
export const RECORDING_CHANNEL_TYPES = ['Mixed', 'Unmixed'] as const;
export const RECORDING_FORMATS = ['Wav', 'Mp3', 'Mp4'] as const;
export type RecordingFormat = (typeof RECORDING_FORMATS)[number];
export type RecordingContentType = (typeof RECORDING_CONTENT_TYPES)[number];

/** The media types a recording may have, with the format and content type each implies. */
const MEDIA_TYPES: Record<string, { format: RecordingFormat; contentTypes: readonly RecordingContentType[] }> = {
  'audio/wav': { format: 'Wav', contentTypes: ['Audio'] },
  'audio/x-wav': { format: 'Wav', contentTypes: ['Audio'] },
  'audio/wave': { format: 'Wav', contentTypes: ['Audio'] },
  'audio/vnd.wave': { format: 'Wav', contentTypes: ['Audio'] },
  'audio/mpeg': { format: 'Mp3', contentTypes: ['Audio'] },
  'audio/mp3': { format: 'Mp3', contentTypes: ['Audio'] },
  'audio/mp4': { format: 'Mp4', contentTypes: ['Audio'] },
  'video/mp4': { format: 'Mp4', contentTypes: ['AudioVideo', 'Audio'] },
};

export const SUPPORTED_MEDIA_TYPES = Object.keys(MEDIA_TYPES);

/** The media type without parameters, lower-cased (`Audio/WAV; codecs=1` is `audio/wav`). */
export function mediaTypeOf(contentType: string | undefined | null): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isSupportedMediaType(mediaType: string): boolean {
  return mediaType in MEDIA_TYPES;
}

/**
 * A participant: an ACS communication identifier model (as the SDKs send them) or a raw id, with the
 * audio channel it was recorded on for unmixed recordings. Reduced to the raw id, which is what
 * privacy requests search for.
 */
const participantSchema = z
  .object({
    rawId: z.string().min(1).max(512).optional(),
    kind: z.string().optional(),
    communicationUser: z.object({ id: z.string().min(1).max(512) }).optional(),
    phoneNumber: z.object({ value: z.string().regex(/^\+\d{6,15}$/, 'must be an E.164 number such as +14255550123') }).optional(),
    microsoftTeamsUser: z.object({ userId: z.string().min(1).max(512), cloud: z.string().optional() }).optional(),
    channel: z.number().int().min(0).max(255).optional(),
  })
  .transform((p, ctx) => {
    const rawId =
      p.rawId ??
      p.communicationUser?.id ??
      (p.phoneNumber ? `4:${p.phoneNumber.value}` : undefined) ??
      (p.microsoftTeamsUser ? `8:orgid:${p.microsoftTeamsUser.userId}` : undefined);
    if (!rawId) {
      ctx.addIssue({ code: 'custom', message: 'a participant needs a rawId or a communicationUser, phoneNumber or microsoftTeamsUser' });
      return z.NEVER;
    }
    return { rawId, ...(p.channel !== undefined ? { channel: p.channel } : {}) };
  });
export type RecordingParticipant = z.output<typeof participantSchema>;

export const MAX_RECORDING_PARTICIPANTS = 1000;

export const recordingMetadataSchema = z.strictObject({
  callId: z.string({ error: 'callId is required' }).min(1, 'callId is required').max(256),
  startTime: z.iso.datetime({ offset: true, error: 'startTime must be an ISO 8601 date-time' }),
  durationMs: z.number({ error: 'durationMs must be a whole number of milliseconds' }).int().min(0).max(7 * 24 * 3600_000),
  participants: z.array(participantSchema).min(1, 'at least one participant is required').max(MAX_RECORDING_PARTICIPANTS),
  channelType: z.enum(RECORDING_CHANNEL_TYPES, { error: 'channelType must be Mixed or Unmixed' }),
  contentType: z.enum(RECORDING_CONTENT_TYPES, { error: 'contentType must be Audio or AudioVideo' }).optional(),
  format: z.enum(RECORDING_FORMATS, { error: 'format must be Wav, Mp3 or Mp4' }).optional(),
  sessionEndReason: z.string().max(128).optional(),
});
export type RecordingMetadataInput = z.infer<typeof recordingMetadataSchema>;

/** The metadata with format and content type settled against the file's media type. */
export interface ResolvedRecordingMetadata extends Omit<RecordingMetadataInput, 'contentType' | 'format'> {
  contentType: RecordingContentType;
  format: RecordingFormat;
  mediaType: string;
}

export type MediaCheck = { ok: true; metadata: ResolvedRecordingMetadata } | { ok: false; field: string; message: string };

/**
 * Settles format and content type: the media type decides the format; what the metadata states must
 * agree with it.
 */
export function resolveAgainstMediaType(metadata: RecordingMetadataInput, mediaType: string): MediaCheck {
  const media = MEDIA_TYPES[mediaType];
  if (!media) {
    return { ok: false, field: 'Content-Type', message: `'${mediaType || 'none'}' is not a recording media type; use one of ${SUPPORTED_MEDIA_TYPES.join(', ')}` };
  }
  if (metadata.format !== undefined && metadata.format !== media.format) {
    return { ok: false, field: 'format', message: `format ${metadata.format} does not match the file's media type ${mediaType} (${media.format})` };
  }
  const contentType = metadata.contentType ?? media.contentTypes[0]!;
  if (!media.contentTypes.includes(contentType)) {
    return { ok: false, field: 'contentType', message: `contentType ${contentType} is not possible for ${mediaType}` };
  }
  return { ok: true, metadata: { ...metadata, format: media.format, contentType, mediaType } };
}
