import { auditOp, auditRecord } from '../audit/audit-record.js';
import { stableId } from '../events/event-record.js';
import { eventSource } from '../resources/resource-service.js';
import { isResourceId, type Resource } from '../resources/resource.js';
import type { GeoBlobContainerName } from '../stores/store-catalogue.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreOp } from '../events/outbox.js';
import type { RecordingDeps } from './recording-ingestion.js';
import { recordingDeletedEvent, type RecordingDeletionReason } from './recording-events.js';
import { releaseRepeatability } from './recording-repeatability.js';
import { readRecording, recordingContentBlob } from './recording-store.js';
import { ignoreNotFound } from '../stores/not-found.js';
import type { RecordingRecord } from './recording-record.js';
import type { ActiveHolds } from '../retention/legal-holds.js';
import type { HeldItem } from '../retention/purge-run-record.js';

/**
 * The purge: finds what is past its expiry by the `expiresAt` blob index tag (`findBlobsByTags`, so
 * its cost grows with what expired, not with what is stored), in a geography's recordings container
 * and its landing container (rejected files). The planner pages through the expired recordings and
 * enqueues one work item each (`expiredPages`); a worker deletes one (`purgeOne`): one outbox change
 * deletes the item, writes the audit record and emits `AcsResidency.RecordingDeleted`; then the blob
 * goes. The change id is derived from the recording, so a second delivery repeats nothing it
 * finished and sends no new event ids. Rejected landing files, whose names are the uploader's and so
 * stay out of the queues, are deleted by one work item per geography (`purgeLandingFiles`).
 */
const RECORDINGS: GeoBlobContainerName = 'recordings';
const LANDING: GeoBlobContainerName = 'recording-landing';
const BLOB_NAME = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/([0-9a-f]{32})$/;

export class RecordingPurger {
  constructor(private readonly deps: RecordingDeps) {}

  /** Expired recordings of a geography, page by page, as (resource id, recording id); blobs not so named are logged and left. */
  async *expiredPages(geo: GeoStore, now: Date, pageSize: number): AsyncGenerator<{ resourceId: string; recordingId: string }[]> {
    const container = (await geo.blobService()).getContainerClient(geo.blobContainerName(RECORDINGS));
    if (!(await container.exists())) return;
    for await (const page of container.findBlobsByTags(expiredFilter(now)).byPage({ maxPageSize: pageSize })) {
      const named = page.blobs.map((blob) => BLOB_NAME.exec(blob.name));
      const unnamed = named.filter((match) => !match).length;
      if (unnamed > 0) this.deps.logger.warn('recording.purge_unexpected_blob_names', { geography: geo.geography.key, count: unnamed });
      const items = named.filter((match) => match !== null).map((match) => ({ resourceId: match[1]!, recordingId: match[2]! }));
      if (items.length > 0) yield items;
    }
  }

  /** Whether the landing container holds an expired (rejected) file. */
  async hasExpiredLandingFiles(geo: GeoStore, now: Date): Promise<boolean> {
    const container = (await geo.blobService()).getContainerClient(geo.blobContainerName(LANDING));
    if (!(await container.exists())) return false;
    for await (const page of container.findBlobsByTags(expiredFilter(now)).byPage({ maxPageSize: 1 })) return page.blobs.length > 0;
    return false;
  }

  /** One work item: the expired recording, unless a hold keeps it (it names a held identity). */
  async purgeOne(geo: GeoStore, resourceId: string, recordingId: string, now: Date): Promise<'deleted' | HeldItem> {
    return this.#purgeRecording(geo, `${resourceId}/${recordingId}`, now, new Map());
  }

  /** Every expired landing file of a geography (one work item); returns how many went. */
  async purgeLandingFiles(geo: GeoStore, now: Date): Promise<number> {
    const container = (await geo.blobService()).getContainerClient(geo.blobContainerName(LANDING));
    if (!(await container.exists())) return 0;
    let count = 0;
    for await (const page of container.findBlobsByTags(expiredFilter(now)).byPage({ maxPageSize: 500 })) {
      for (const blob of page.blobs) {
        await this.#purgeLandingFile(geo, blob.name, now);
        count += 1;
      }
    }
    return count;
  }

  /** Deletes one expired recording (item, event, audit record, then blob), unless it lists a held identity. */
  async #purgeRecording(geo: GeoStore, blobName: string, now: Date, holds: Map<string, Promise<ActiveHolds | undefined>>): Promise<'deleted' | HeldItem> {
    const [resourceId = '', id = ''] = blobName.split('/');
    const record = await readRecording(geo, resourceId, id);
    const resource = await this.deps.resourceById(resourceId);
    if (record && resource) {
      if (!holds.has(resourceId)) holds.set(resourceId, this.deps.holds ? this.deps.holds.active(resource) : Promise.resolve(undefined));
      const active = await holds.get(resourceId);
      const holdIds = record.participantIds.flatMap((p) => active?.identities.get(p) ?? []);
      if (holdIds.length > 0) return { resourceId, subjectType: 'recording', subjectId: id, holdIds };
      await this.commitDeletion(geo, resource, record, 'expired', now);
    } else {
      // No item (an upload that stopped half-way, or one deleted by request whose blob stayed): only the blob,
      // and the repeatability claim it may have won.
      await this.#commitAudit(geo, resourceId, 'recording.orphanBlobPurged', 'recording', id, now);
      await this.#releaseClaimOfBlob(geo, resourceId, id);
    }
    const blob = await recordingContentBlob(geo, resourceId, id);
    await blob.delete({ deleteSnapshots: 'include' }).catch(ignoreNotFound);
    return 'deleted';
  }

  /**
   * The outbox change that removes a recording's item, with its audit record and deletion event
   * (shared with deletion by request). Once per recording and reason.
   */
  async commitDeletion(geo: GeoStore, resource: Resource, record: RecordingRecord, reason: RecordingDeletionReason, now: Date): Promise<void> {
    const at = now.toISOString();
    const ops: StoreOp[] = [
      { op: 'delete', target: { plane: 'geo', container: 'recordings' }, id: record.id, partitionKey: resource.id },
      auditOp(
        auditRecord({
          resourceId: resource.id,
          action: reason === 'expired' ? 'recording.purged' : 'recording.deleted',
          subjectType: 'recording',
          subjectId: record.id,
          reason,
          at,
          details: { createdAt: record.createdAt, expiresAt: record.expiresAt, contentLength: record.contentLength },
        }),
      ),
    ];
    await this.deps.outboxFor(geo).commit({
      changeId: stableId('recording.delete', resource.id, record.id),
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops,
      events: [recordingDeletedEvent(record, reason, at)],
    });
    // The repeatability id it won is free again. Not part of the change: the claim is removed only if it
    // still names this recording. If this fails, the claim is stale and the next attempt takes it over.
    if (record.repeatabilityKey) await releaseRepeatability(geo, resource.id, record.repeatabilityKey, record.id);
  }

  /** Releases the repeatability claim an orphan blob's upload may have won (named in its metadata). */
  async #releaseClaimOfBlob(geo: GeoStore, resourceId: string, id: string): Promise<void> {
    const blob = await recordingContentBlob(geo, resourceId, id);
    const properties = await blob.getProperties().catch((error: unknown) => (ignoreNotFound(error), undefined));
    const key = properties?.metadata?.repeatabilitykey;
    if (key) await releaseRepeatability(geo, resourceId, key, id);
  }

  async #purgeLandingFile(geo: GeoStore, blobName: string, now: Date): Promise<void> {
    const prefix = blobName.split('/')[0] ?? '';
    const resourceId = isResourceId(prefix) ? prefix : 'unknown';
    await this.#commitAudit(geo, resourceId, 'landingFile.purged', 'landingFile', stableId('landing', blobName), now);
    const landing = (await geo.blobService()).getContainerClient(geo.blobContainerName('recording-landing'));
    await landing.deleteBlob(blobName, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
  }

  /** An audit record on its own (nothing to announce), once per subject. */
  async #commitAudit(geo: GeoStore, resourceId: string, action: string, subjectType: string, subjectId: string, now: Date): Promise<void> {
    await this.deps.outboxFor(geo).commit({
      changeId: stableId(action, resourceId, subjectId),
      resourceId,
      eventSource: eventSource(resourceId),
      payloadMode: 'minimal',
      ops: [auditOp(auditRecord({ resourceId, action, subjectType, subjectId, reason: 'expired', at: now.toISOString() }))],
      events: [],
    });
  }
}

const expiredFilter = (now: Date) => `"expiresAt" <= '${now.toISOString()}'`;
