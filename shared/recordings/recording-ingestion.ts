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
import { ignoreNotFound } from '../stores/not-found.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { LegalHolds } from '../retention/legal-holds.js';
import type { Logger } from '../telemetry/logger.js';
import { fileStatusUpdatedEvent } from './recording-events.js';
import { resolveAgainstMediaType, type ResolvedRecordingMetadata } from './recording-metadata.js';
import { expiresAtFor, expiryTags, newRecordingRecord, recordingId, recordingLocations, type RecordingRecord } from './recording-record.js';
import { CLAIM_SETTLE_MS, claimRepeatability, creationTimeFor, repeatabilityKey, type RepeatabilityClaim } from './recording-repeatability.js';
import { readRecording, recordingContentBlob } from './recording-store.js';
import { receiveRecordingUpload, type ReceivedUpload, type UploadLimits } from './recording-upload.js';

export interface RecordingDeps {
  stores: StoreDirectory;
  outboxFor: (geo: GeoStore) => Outbox;
  clock: Clock;
  logger: Logger;
  /** The resource with an id (landing files name their resource by id). */
  resourceById: (id: string) => Promise<Resource | undefined>;
  /** Upload limits, and the block size of the landing copy (RECORDING_COPY_BLOCK_BYTES; it stages `concurrency` blocks at once too). */
  limits: UploadLimits & { copyBlockBytes: number };
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
  /** `repeatability-request-id` / `-first-sent`: a retried upload is answered with the same recording. */
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
    const retentionHours = effectiveRetention(resource.retention).recordingHours;
    // Checked before a byte is read: a first-sent that would stretch or void the retention is refused.
    const createdAt = request.repeatability ? creationTimeFor(request.repeatability.firstSent, this.deps.clock.now(), retentionHours) : this.deps.clock.now();
    const expiresAt = expiresAtFor(createdAt, retentionHours);
    // Every attempt has a recording id and a blob of its own, so concurrent attempts never share blocks.
    const id = recordingId(createdAt);
    const blob = await recordingContentBlob(geo, resource.id, id);
    const key = request.repeatability ? repeatabilityKey(resource.id, request.repeatability.requestId) : undefined;

    let checked: { upload: ReceivedUpload; metadata: ResolvedRecordingMetadata };
    try {
      checked = await this.#receive(blob, request);
    } catch (error) {
      // Refused or failed: nothing was committed; drop what was staged instead of leaving it a week.
      await discardStagedBlocks(blob);
      throw error;
    }
    const { upload } = checked;
    const committed = await blob.commitBlockList(upload.staged.blockIds, {
      conditions: { ifNoneMatch: '*' },
      blobHTTPHeaders: { blobContentType: upload.mediaType },
      tags: expiryTags(resource.id, expiresAt, { recordingId: id }),
      metadata: {
        resourceid: resource.id,
        recordingid: id,
        createdat: createdAt.toISOString(),
        expiresat: expiresAt,
        ...(key ? { repeatabilitykey: key } : {}),
      },
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
      ...(key ? { repeatabilityKey: key } : {}),
    });
    if (!key) {
      await this.register(resource, record, request.baseUrl);
      return { record, created: true };
    }
    const attempt = { won: false };
    try {
      return await this.#settleRepeatable(geo, resource, record, key, request.baseUrl, attempt);
    } finally {
      // A losing attempt's blob goes now (if that fails, or the attempt stopped before the claim, the purge
      // removes it at its expiry: it has no record). The winner's stays, even if its registration failed:
      // the outbox finishes that.
      if (!attempt.won) await blob.delete({ conditions: { ifMatch: committed.etag } }).catch(() => undefined);
    }
  }

  /**
   * Settles which attempt a repeatability id stands for (see recording-repeatability.ts): this one, if
   * it takes the claim (201); otherwise the claim's recording, if it is the same file (200), or a 409.
   */
  async #settleRepeatable(
    geo: GeoStore,
    resource: Resource,
    record: RecordingRecord,
    key: string,
    baseUrl: string,
    attempt: { won: boolean },
  ): Promise<{ record: RecordingRecord; created: boolean }> {
    const mine: RepeatabilityClaim = {
      id: key,
      resourceId: resource.id,
      kind: 'recordingRepeatability',
      recordingId: record.id,
      contentSha256: record.contentSha256 ?? '',
      contentLength: record.contentLength,
      mediaType: record.mediaType,
      etag: record.etag,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
      claimedAt: this.deps.clock.now().toISOString(),
    };
    let replacing: string | undefined;
    // A few rounds at most: a round is repeated only when the claim went, changed or was stale.
    for (let round = 0; round < 5; round += 1) {
      const outcome = await claimRepeatability(geo, mine, replacing);
      replacing = undefined;
      if (!outcome) continue;
      if (outcome.won) {
        attempt.won = true;
        await this.register(resource, record, baseUrl);
        // An identical attempt may have registered this recording first, with its own metadata: answer what is stored.
        return { record: (await readRecording(geo, resource.id, record.id)) ?? record, created: true };
      }
      const { claim } = outcome;
      const standing = await this.#standingRecording(geo, resource, claim);
      if (!standing) {
        replacing = outcome.itemEtag;
        continue;
      }
      const sameFile = claim.contentSha256 === mine.contentSha256 && claim.contentLength === mine.contentLength && claim.mediaType === mine.mediaType;
      if (!sameFile) {
        throw new ServiceError('Conflict', 'This repeatability-request-id was already used for a different recording.', { target: 'repeatability-request-id' });
      }
      if (standing !== 'blobOnly') return { record: standing, created: false };
      // The winner committed its blob moments ago and has not written its record yet (or stopped before it):
      // register it, with this attempt's metadata (the same file). Registering twice is harmless: the
      // change id is the recording's, so the item is written and announced once.
      await this.register(resource, { ...record, id: claim.recordingId, etag: claim.etag, createdAt: claim.createdAt, expiresAt: claim.expiresAt }, baseUrl);
      const registered = await readRecording(geo, resource.id, claim.recordingId);
      if (registered) return { record: registered, created: false };
      // Its change had been done and undone before (the recording was deleted): the claim is stale.
      replacing = outcome.itemEtag;
    }
    throw new ServiceError('ServiceUnavailable', 'Concurrent uploads with this repeatability-request-id did not settle; retry.', {
      target: 'repeatability-request-id',
      headers: { 'retry-after': '1' },
    });
  }

  /**
   * What a claim stands for: its recording; `blobOnly` if its winner committed the blob less than
   * CLAIM_SETTLE_MS ago and the record is not written yet; undefined if the claim is stale (expired,
   * its recording deleted, or its winner stopped half-way long ago).
   */
  async #standingRecording(geo: GeoStore, resource: Resource, claim: RepeatabilityClaim): Promise<RecordingRecord | 'blobOnly' | undefined> {
    const now = this.deps.clock.now();
    if (claim.expiresAt <= now.toISOString()) return undefined;
    const record = await readRecording(geo, resource.id, claim.recordingId);
    if (record) return record;
    if (Date.parse(claim.claimedAt) + CLAIM_SETTLE_MS <= now.getTime()) return undefined;
    const blob = await recordingContentBlob(geo, resource.id, claim.recordingId);
    const properties = await blob.getProperties().catch((error: unknown) => (ignoreNotFound(error), undefined));
    return properties?.etag === claim.etag ? 'blobOnly' : undefined;
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
}
