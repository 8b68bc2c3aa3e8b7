import type { BlobGetPropertiesResponse, BlockBlobClient } from '@azure/storage-blob';
import { effectiveRetention, RECORDING_MAX_HOURS } from '../resources/retention-settings.js';
import { isResourceId, type Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import { copyByBlocks } from '../stores/blob-block-copy.js';
import { copySourceOf } from '../stores/copy-source.js';
import type { BlobCreatedEvent } from './blob-created-event.js';
import type { RecordingDeps, RecordingIngestion } from './recording-ingestion.js';
import { recordingMetadataSchema, mediaTypeOf, resolveAgainstMediaType, type ResolvedRecordingMetadata } from './recording-metadata.js';
import { expiresAtFor, expiryTags, newRecordingRecord, recordingId, type RecordingRecord } from './recording-record.js';
import { readRecording, recordingContentBlob } from './recording-store.js';
import { ignoreNotFound } from '../stores/not-found.js';

/**
 * Ingestion path 2: a media pipeline writes a file straight into its geography's landing container
 * (`{resourceId}/{any name}`, with the metadata JSON in the blob metadata `recording`), and the
 * storage account's `BlobCreated` event brings it here. The file is copied server-side into the
 * recordings container (no byte passes through the service, no account key needed: see
 * shared/stores/blob-block-copy.ts), registered like an upload, and then removed from the landing
 * container.
 *
 * Handling the same event twice does no harm: the recording id is derived from the landing blob's URL
 * and ETag, the registration is one outbox change with a stable id, and a landing file that is gone
 * was already handled. A file that cannot be ingested (unknown resource, another geography's
 * resource, bad metadata, already expired) is tagged `ingestStatus=rejected` with the reason and an
 * expiry, so the purge removes it like an expired recording.
 */
export type LandingOutcome = 'ingested' | 'alreadyIngested' | 'gone' | 'superseded' | 'ignored' | 'rejected';

type Rejection = 'unknownResource' | 'otherGeography' | 'invalidMetadata' | 'expired';

export class RecordingLanding {
  constructor(
    private readonly deps: RecordingDeps,
    private readonly ingestion: RecordingIngestion,
  ) {}

  async handle(event: BlobCreatedEvent): Promise<LandingOutcome> {
    const found = event.type === 'Microsoft.Storage.BlobCreated' ? await this.#landingBlob(event) : undefined;
    if (!found) return this.#log('ignored', event);
    const { geo, blobName } = found;
    const landing = (await geo.blobContainer('recording-landing')).getBlockBlobClient(blobName);
    const properties = await landing.getProperties().catch((error: unknown) => (ignoreNotFound(error), undefined));
    // Gone: handled before (ingested, or rejected and purged), or deleted by its writer.
    if (!properties) return this.#log('gone', event);
    // The file was overwritten after this event; the newer file's own event will bring it.
    if (event.eTag && unquoted(properties.etag) !== unquoted(event.eTag)) return this.#log('superseded', event);

    const createdAt = properties.createdOn ?? properties.lastModified ?? this.deps.clock.now();
    const resourceId = blobName.split('/')[0] ?? '';
    const resource = isResourceId(resourceId) ? await this.deps.resourceById(resourceId) : undefined;
    if (!resource || resource.state !== 'active') return this.#reject(landing, event, 'unknownResource', createdAt, undefined);
    if (resource.geographyKey !== geo.geography.key) return this.#reject(landing, event, 'otherGeography', createdAt, resource);
    const metadata = parseLandingMetadata(properties);
    if (!metadata) return this.#reject(landing, event, 'invalidMetadata', createdAt, resource);
    const expiresAt = expiresAtFor(createdAt, effectiveRetention(resource.retention).recordingHours);
    if (expiresAt <= this.deps.clock.now().toISOString()) return this.#reject(landing, event, 'expired', createdAt, resource);

    const id = recordingId(createdAt, [landing.url, unquoted(properties.etag)]);
    const existing = await readRecording(geo, resource.id, id);
    const record = existing ?? (await this.#copy(geo, landing, properties, { resource, id, metadata, createdAt, expiresAt }));
    if (record === 'superseded') return this.#log('superseded', event);
    // Gone during the copy: a concurrent handling of this event ingested and removed it, or its writer deleted it.
    if (record === 'gone') return this.#log((await readRecording(geo, resource.id, id)) ? 'alreadyIngested' : 'gone', event);
    await this.ingestion.register(resource, record, this.ingestion.configuredBaseUrl());
    await landing.delete({ conditions: { ifMatch: properties.etag } }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404 && error.statusCode !== 412) throw error;
    });
    return this.#log(existing ? 'alreadyIngested' : 'ingested', event);
  }

  /**
   * Copies the landing file into the recordings container with its expiry (tags and metadata) and its
   * content headers; 'superseded' if it was overwritten meanwhile, 'gone' if it was deleted.
   */
  async #copy(
    geo: GeoStore,
    landing: BlockBlobClient,
    properties: BlobGetPropertiesResponse,
    fields: { resource: Resource; id: string; metadata: ResolvedRecordingMetadata; createdAt: Date; expiresAt: string },
  ): Promise<RecordingRecord | 'superseded' | 'gone'> {
    const { resource, id, createdAt, expiresAt } = fields;
    const target = await recordingContentBlob(geo, resource.id, id);
    const copied = await copyByBlocks(landing, target, {
      sourceEtag: properties.etag ?? '',
      sourceLength: properties.contentLength ?? 0,
      blockBytes: this.deps.limits.copyBlockBytes,
      concurrency: this.deps.limits.concurrency,
      source: () => copySourceOf(landing),
      tags: expiryTags(resource.id, expiresAt, { recordingId: id }),
      metadata: { resourceid: resource.id, recordingid: id, createdat: createdAt.toISOString(), expiresat: expiresAt },
      headers: {
        blobContentType: properties.contentType,
        blobContentEncoding: properties.contentEncoding,
        blobContentLanguage: properties.contentLanguage,
        blobContentDisposition: properties.contentDisposition,
        blobCacheControl: properties.cacheControl,
        blobContentMD5: properties.contentMD5,
      },
    });
    if (copied.outcome === 'sourceChanged') return 'superseded';
    if (copied.outcome === 'sourceGone') return 'gone';
    return newRecordingRecord({
      id,
      resource,
      metadata: fields.metadata,
      contentLength: copied.contentLength,
      etag: copied.etag,
      createdAt,
      expiresAt,
      source: 'landing',
    });
  }

  async #reject(landing: BlockBlobClient, event: BlobCreatedEvent, reason: Rejection, createdAt: Date, resource: Resource | undefined): Promise<LandingOutcome> {
    // Kept no longer than any recording could be; the purge finds it by the same expiry tag.
    const hours = resource ? effectiveRetention(resource.retention).recordingHours : RECORDING_MAX_HOURS;
    const resourceId = resource?.id ?? 'unknown';
    await landing
      .setTags(expiryTags(resourceId, expiresAtFor(createdAt, hours), { ingestStatus: 'rejected', ingestReason: reason }))
      .catch((error: unknown) => ignoreNotFound(error));
    this.deps.logger.warn('recording.landing_rejected', { code: reason, correlationId: event.id });
    return 'rejected';
  }

  /**
   * The landing blob an event names, from one validated source: its URL, which must lie in one
   * geography's landing container (account and container), name the blob without dot segments or
   * encoded separators, and agree with the subject's container and blob name. Anything else is
   * refused before storage is touched.
   */
  async #landingBlob(event: BlobCreatedEvent): Promise<{ geo: GeoStore; blobName: string } | undefined> {
    const blob = rawUrlParts(event.url);
    if (!blob || !isPlainPath(blob.path)) return undefined;
    for (const geo of this.deps.stores.all()) {
      const service = await geo.blobService();
      const containerName = geo.blobContainerName('recording-landing');
      const container = rawUrlParts(service.getContainerClient(containerName).url);
      if (!container || container.origin !== blob.origin || !blob.path.startsWith(`${container.path}/`)) continue;
      const blobName = decodedPath(blob.path.slice(container.path.length + 1));
      const plainName = blobName !== undefined && blobName.split('/').every((segment) => segment !== '' && segment !== '.' && segment !== '..');
      if (!plainName || event.container !== containerName || event.blobName !== blobName) return undefined;
      return { geo, blobName };
    }
    return undefined;
  }

  #log(outcome: LandingOutcome, event: BlobCreatedEvent): LandingOutcome {
    this.deps.logger.info('recording.landing_event', { code: outcome, correlationId: event.id });
    return outcome;
  }
}

/** Event Grid sends ETags bare (`0x8D...`); the blob API quotes them (`"0x8D..."`). */
const unquoted = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/** Origin (scheme and host, lower-cased) and path of a URL exactly as written: `new URL` would resolve dot segments. */
function rawUrlParts(url: string): { origin: string; path: string } | undefined {
  const match = /^(https?):\/\/([^/?#]+)(\/[^?#]*)?(?:[?#].*)?$/i.exec(url);
  if (!match) return undefined;
  return { origin: `${match[1]!.toLowerCase()}://${match[2]!.toLowerCase()}`, path: (match[3] ?? '/').replace(/\/+$/, '') };
}

/** A path with no dot segment and no encoded dot, slash or backslash (which storage would decode into one). */
function isPlainPath(path: string): boolean {
  if (/%2e|%2f|%5c|\\/i.test(path)) return false;
  return path.split('/').every((segment) => segment !== '.' && segment !== '..');
}

function decodedPath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** The landing file's metadata (`x-ms-meta-recording`, JSON), settled against its media type. */
function parseLandingMetadata(properties: BlobGetPropertiesResponse): ResolvedRecordingMetadata | undefined {
  const text = properties.metadata?.recording;
  if (!text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = recordingMetadataSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const resolved = resolveAgainstMediaType(parsed.data, mediaTypeOf(properties.contentType));
  return resolved.ok ? resolved.metadata : undefined;
}
