import { stableId, type EventDraft } from '../events/event-record.js';
import type { RecordingLocations, RecordingRecord } from './recording-record.js';

export const RECORDING_EVENT_TYPES = {
  /** ACS: a recording file is ready (once per recording). */
  fileStatusUpdated: 'Microsoft.Communication.RecordingFileStatusUpdated',
  /** Ours: a recording was deleted, by request or at its expiry (see README, Events). */
  deleted: 'AcsResidency.RecordingDeleted',
} as const;

export type RecordingDeletionReason = 'expired' | 'deletedByRequest' | 'erasureRequest';

const subject = (record: Pick<RecordingRecord, 'callId' | 'id'>) => `/recording/call/${record.callId}/recordingId/${record.id}`;

/** `Microsoft.Communication.RecordingFileStatusUpdated` in the ACS shape, with one chunk: the file. */
export function fileStatusUpdatedEvent(record: RecordingRecord, locations: RecordingLocations): EventDraft {
  return {
    id: stableId('recording.ready', record.resourceId, record.id),
    type: RECORDING_EVENT_TYPES.fileStatusUpdated,
    subject: subject(record),
    time: record.createdAt,
    data: {
      recordingStorageInfo: {
        recordingChunks: [{ documentId: record.id, index: 0, endReason: 'SessionEnded', ...locations }],
      },
      recordingStartTime: record.startTime,
      recordingDurationMs: record.durationMs,
      recordingContentType: record.contentType,
      recordingChannelType: record.channelType,
      recordingFormatType: record.format,
      sessionEndReason: record.sessionEndReason ?? 'CallEnded',
    },
  };
}

/** `AcsResidency.RecordingDeleted`: which recording, why and when; its id is stable per recording. */
export function recordingDeletedEvent(record: RecordingRecord, reason: RecordingDeletionReason, deletedAt: string): EventDraft {
  return {
    id: stableId('recording.deleted', record.resourceId, record.id),
    type: RECORDING_EVENT_TYPES.deleted,
    subject: subject(record),
    time: deletedAt,
    data: { recordingId: record.id, callId: record.callId, reason, createdAt: record.createdAt, expiresAt: record.expiresAt, deletedAt },
  };
}
