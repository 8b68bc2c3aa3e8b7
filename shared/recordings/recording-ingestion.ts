import type { BlockBlobClient } from '@azure/storage-blob';
import type { Clock } from '../clock.js';
import { verifyContentDigest } from '../auth/hmac-auth.js';
import { ServiceError } from '../errors/service-error.js';
import { stableId } from '../events/event-record.js';
import type { Outbox } from '../events/outbox.js';
import { eventSource } from '../resources/resource-service.js';
import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import { discardStagedBlocks } from '../stores/block-blob-writer.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { LegalHolds } from '../retention/legal-holds.js';
import type { Logger } from '../telemetry/logger.js';
import { fileStatusUpdatedEvent } from './recording-events.js';
import { resolveAgainstMediaType, type ResolvedRecordingMetadata } from './recording-metadata.js';
import { expiresAtFor, expiryTags, newRecordingRecord, recordingId, recordingLocations, type RecordingRecord } from './recording-record.js';
import { readRecording, recordingContentBlob } from './recording-store.js';
import { receiveRecordingUpload, type ReceivedUpload, type UploadLimits } from './recording-upload.js';

export interface RecordingDeps {
  stores: StoreDirectory;
  outboxFor: (geo: GeoStore) => Outbox;
  clock: Clock;
  logger: Logger;
  /** The resource with an id (landing files name their resource by id). */
  resourceById: (id: string) => Promise<Resource | undefined>;
  limits: UploadLimits;
  /** The service's public URL, for the locations in events (PUBLIC_BASE_URL). */
  publicBaseUrl?: string;
  /** Legal holds the purge respects (recordings that list a held identity are kept). */
  holds?: LegalHolds;
}

export interface UploadRequest {
  body: AsyncIterable<Uint8Array>;
  contentType: string | null;
  /** The x-ms-content-sha256 the (already verified) signature covers. */
  claimedContentHash: string;
  /** Where the recording's locations point (see `baseUrl`). */
  baseUrl: string;
  /** `repeatability-request-id` / `-first-sent`: a retried upload names the same recording. */
  repeatability?: { requestId: string; firstSent?: string };
}

/**
 * Ingestion, both paths: the upload (`POST {endpoint}recordings`, streamed into the geography's
 * blob storage) here, the landing container in recording-landing.ts. Both end in `register`: the
 * recording item and its `RecordingFileStatusUpdated` event, written once through the outbox.
 */
export class RecordingIngestion {
  constructor(private readonly deps: RecordingDeps) {}

  /** The service's public URL, for locations named without a request (landing files). */
  configuredBaseUrl(): string {
    if (!this.deps.publicBaseUrl) throw new Error('PUBLIC_BASE_URL (or WEBSITE_HOSTNAME) is required to name recording locations');
    return this.deps.publicBaseUrl;
  }

  async upload(resource: Resource, request: UploadRequest): Promise<{ record: RecordingRecord; created: boolean }> {
    const geo = this.deps.stores.forResource(resource);
    const createdAt = this.#createdAt(request.repeatability?.firstSent);
    const id = request.repeatability ? recordingId(createdAt, [resource.id, request.repeatability.requestId]) : recordingId(createdAt);
    const blob = await recordingContentBlob(geo, resource.id, id);

    let checked: { upload: ReceivedUpload; metadata: ResolvedRecordingMetadata };
    try {
      checked = await this.#receive(blob, request);
    } catch (error) {
      // Refused or failed: nothing was committed; drop what was staged instead of leaving it a week.
      await discardStagedBlocks(blob);
      throw error;
    }
    const { upload } = checked;
    const existing = await readRecording(geo, resource.id, id);
    if (existing) {
      if (existing.contentSha256 === upload.contentSha256) return { record: existing, created: false };
      throw new ServiceError('Conflict', 'This repeatability-request-id was already used for a different recording.', { target: 'repeatability-request-id' });
    }
    const expiresAt = expiresAtFor(createdAt, effectiveRetention(resource.retention).recordingHours);
    const committed = await blob.commitBlockList(upload.staged.blockIds, {
      blobHTTPHeaders: { blobContentType: upload.mediaType },
      tags: expiryTags(resource.id, expiresAt, { recordingId: id }),
      metadata: { resourceid: resource.id, recordingid: id, createdat: createdAt.toISOString(), expiresat: expiresAt },
    });
    const record = newRecordingRecord({
      id,
      resource,
      metadata: checked.metadata,
      contentLength: upload.staged.size,
      contentSha256: upload.contentSha256,
      etag: committed.etag ?? '',
      createdAt,
      expiresAt,
      source: 'upload',
    });
    await this.register(resource, record, request.baseUrl);
    return { record, created: true };
  }

  /** Reads the upload into staged blocks and checks it: the signed hash first, then the parts. */
  async #receive(blob: BlockBlobClient, request: UploadRequest): Promise<{ upload: ReceivedUpload; metadata: ResolvedRecordingMetadata }> {
    const received = await receiveRecordingUpload({ body: request.body, contentType: request.contentType, blob, limits: this.deps.limits });
    // Authenticity first: a body that is not the signed one is refused whatever else is wrong with it.
    if (received.bodySha256 !== undefined) verifyContentDigest(received.bodySha256, request.claimedContentHash);
    if (received.error || !received.upload) throw received.error ?? new Error('upload ended without a result');
    const resolved = resolveAgainstMediaType(received.upload.metadata, received.upload.mediaType);
    if (!resolved.ok) throw new ServiceError('ValidationError', `Invalid recording metadata: ${resolved.message}.`, { target: resolved.field });
    return { upload: received.upload, metadata: resolved.metadata };
  }

  /** Writes the recording item and announces it, once per recording however often this is called. */
  async register(resource: Resource, record: RecordingRecord, baseUrl: string): Promise<void> {
    const geo = this.deps.stores.forResource(resource);
    await this.deps.outboxFor(geo).commit({
      changeId: stableId('recording.register', resource.id, record.id),
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: [{ op: 'upsert', target: { plane: 'geo', container: 'recordings' }, partitionKey: resource.id, item: record }],
      events: [fileStatusUpdatedEvent(record, recordingLocations(baseUrl, resource, record.id))],
    });
  }

  /** The creation time: now, or for a repeated request the time its first attempt gave (so the id repeats). */
  #createdAt(firstSent: string | undefined): Date {
    const now = this.deps.clock.now();
    const sent = firstSent ? Date.parse(firstSent) : Number.NaN;
    // A first-sent time in the future or more than a day old is not trusted for the expiry clock.
    if (Number.isNaN(sent) || sent > now.getTime() + 5 * 60_000 || sent < now.getTime() - 24 * 3600_000) return now;
    return new Date(Math.floor(sent / 1000) * 1000);
  }
}
