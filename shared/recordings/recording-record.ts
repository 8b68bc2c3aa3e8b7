import { createHash, randomBytes } from 'node:crypto';
import type { Resource } from '../resources/resource.js';
import type { RecordingParticipant, ResolvedRecordingMetadata } from './recording-metadata.js';
import { subjectSearchKey } from '../oplog/subject-ids.js';

/**
 * A recording as the geography keeps it: the item in Cosmos container `recordings` (partition key
 * `/resourceId`) and the content blob `{resourceId}/{id}` in blob container `recordings`, whose index
 * tags and metadata carry the same expiry. The item is the truth for every API; a blob without an
 * item (an ingestion that stopped half-way) is never served and is purged at its expiry.
 */
export interface RecordingRecord {
  id: string;
  resourceId: string;
  kind: 'recording';
  callId: string;
  startTime: string;
  durationMs: number;
  participants: RecordingParticipant[];
  /** The participants' raw ids as searched (e-mail addresses in lower case), for `ARRAY_CONTAINS` searches (privacy requests). */
  participantIds: string[];
  channelType: string;
  contentType: string;
  format: string;
  sessionEndReason?: string;
  mediaType: string;
  contentLength: number;
  /** Base64 SHA-256 of the content, when it streamed through the service (uploads). */
  contentSha256?: string;
  etag: string;
  createdAt: string;
  expiresAt: string;
  source: 'upload' | 'landing';
  /** The repeatability claim this upload won (see recording-repeatability.ts), released with the recording. */
  repeatabilityKey?: string;
}

/**
 * Recording ids: 32 hex digits, the creation time in ms (12 digits) then 20 of a random or derived
 * part, so ids sort by creation and a derived id is the same on every retry.
 */
export const RECORDING_ID_PATTERN = /^[0-9a-f]{32}$/;

export function recordingId(createdAt: Date, derivedFrom?: string[]): string {
  const time = createdAt.getTime().toString(16).padStart(12, '0').slice(-12);
  const rest = derivedFrom
    ? createHash('sha256').update(derivedFrom.join('\u0000')).digest('hex').slice(0, 20)
    : randomBytes(10).toString('hex');
  return `${time}${rest}`;
}

export const recordingBlobName = (resourceId: string, id: string) => `${resourceId}/${id}`;

/** Blob index tags of a recording's content (and of a rejected landing file): what the purge finds. */
export function expiryTags(resourceId: string, expiresAt: string, extra: Record<string, string> = {}): Record<string, string> {
  return { resourceId, expiresAt, ...extra };
}

export function expiresAtFor(createdAt: Date, hours: number): string {
  return new Date(createdAt.getTime() + hours * 3600_000).toISOString();
}

export function isExpired(record: Pick<RecordingRecord, 'expiresAt'>, now: Date): boolean {
  return record.expiresAt <= now.toISOString();
}

export function newRecordingRecord(fields: {
  id: string;
  resource: Resource;
  metadata: ResolvedRecordingMetadata;
  contentLength: number;
  contentSha256?: string;
  etag: string;
  createdAt: Date;
  expiresAt: string;
  source: RecordingRecord['source'];
  repeatabilityKey?: string;
}): RecordingRecord {
  const { metadata } = fields;
  return {
    id: fields.id,
    resourceId: fields.resource.id,
    kind: 'recording',
    callId: metadata.callId,
    startTime: new Date(metadata.startTime).toISOString(),
    durationMs: metadata.durationMs,
    participants: metadata.participants,
    participantIds: [...new Set(metadata.participants.map((p) => subjectSearchKey(p.rawId)))],
    channelType: metadata.channelType,
    contentType: metadata.contentType,
    format: metadata.format,
    ...(metadata.sessionEndReason ? { sessionEndReason: metadata.sessionEndReason } : {}),
    mediaType: metadata.mediaType,
    contentLength: fields.contentLength,
    ...(fields.contentSha256 ? { contentSha256: fields.contentSha256 } : {}),
    etag: fields.etag,
    createdAt: fields.createdAt.toISOString(),
    expiresAt: fields.expiresAt,
    source: fields.source,
    ...(fields.repeatabilityKey ? { repeatabilityKey: fields.repeatabilityKey } : {}),
  };
}

export interface RecordingLocations {
  contentLocation: string;
  metadataLocation: string;
  deleteLocation: string;
}

/** Where a recording's content, metadata and deletion are, on our API (the resource's endpoint). */
export function recordingLocations(baseUrl: string, resource: Pick<Resource, 'name'>, id: string): RecordingLocations {
  const at = (suffix: string) => {
    const url = new URL(`/recordings/${id}${suffix}`, baseUrl);
    url.searchParams.set('resource', resource.name.toLowerCase());
    return url.toString();
  };
  return { contentLocation: at('/content'), metadataLocation: at('/metadata'), deleteLocation: at('') };
}

/** The API's view of a recording (list and get). */
export function recordingView(record: RecordingRecord, locations: RecordingLocations): Record<string, unknown> {
  return {
    id: record.id,
    callId: record.callId,
    recordingStartTime: record.startTime,
    recordingDurationMs: record.durationMs,
    recordingContentType: record.contentType,
    recordingChannelType: record.channelType,
    recordingFormatType: record.format,
    contentType: record.mediaType,
    contentLength: record.contentLength,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    ...locations,
  };
}

/**
 * The recording metadata document (`metadataLocation`), in the shape ACS gives it, plus the
 * recording's expiry and the file's media type and size.
 */
export function recordingMetadataDocument(record: RecordingRecord): Record<string, unknown> {
  return {
    resourceId: record.resourceId,
    callId: record.callId,
    chunkDocumentId: record.id,
    chunkIndex: 0,
    chunkStartTime: record.startTime,
    chunkDuration: record.durationMs,
    pauseResumeIntervals: [],
    recordingInfo: {
      contentType: record.contentType,
      channelType: record.channelType,
      format: record.format,
    },
    participants: record.participants.map((p) => ({ participantId: p.rawId, ...(p.channel !== undefined ? { channel: p.channel } : {}) })),
    ...(record.sessionEndReason ? { sessionEndReason: record.sessionEndReason } : {}),
    mediaType: record.mediaType,
    contentLength: record.contentLength,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
  };
}
