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
import { emptyTotals, type HeldItem, type PurgeTotals } from '../retention/purge-runs.js';

/**
 * The purge: finds what is past its expiry by the `expiresAt` blob index tag (`findBlobsByTags`, so a
 * run's cost grows with what expired, not with what is stored), in a geography's recordings container
 * and its landing container (rejected files). For each recording, one outbox change deletes the item,
 * writes the audit record and emits `AcsResidency.RecordingDeleted`; then the blob goes. The change id
 * is derived from the recording, so a rerun after a crash repeats nothing it finished and sends no new
 * event ids. A run stops at its item or time budget; the rest is found by the next run.
 */
export interface PurgeBudget {
  maxItems: number;
  maxDurationMs: number;
}

/** `deleted` counts `recordings` and `landingFiles`; recordings that list a held identity are kept and reported. */
export type PurgeSummary = PurgeTotals;

const PURGED_CONTAINERS: GeoBlobContainerName[] = ['recordings', 'recording-landing'];

export class RecordingPurger {
  constructor(private readonly deps: RecordingDeps) {}

  async run(geo: GeoStore, budget: PurgeBudget): Promise<PurgeSummary> {
    const started = Date.now();
    const now = this.deps.clock.now();
    const summary = emptyTotals();
    const count = (kind: string) => (summary.deleted[kind] = (summary.deleted[kind] ?? 0) + 1);
    const holds = new Map<string, Promise<ActiveHolds | undefined>>();
    const service = await geo.blobService();
    const overBudget = () => summary.examined >= budget.maxItems || Date.now() - started >= budget.maxDurationMs;
    for (const name of PURGED_CONTAINERS) {
      const container = service.getContainerClient(geo.blobContainerName(name));
      if (!(await container.exists())) continue;
      const expired = container.findBlobsByTags(`"expiresAt" <= '${now.toISOString()}'`).byPage({ maxPageSize: Math.min(budget.maxItems, 1000) });
      pages: for await (const page of expired) {
        for (const blob of page.blobs) {
          if (overBudget()) {
            summary.stoppedAtBudget = true;
            break pages;
          }
          summary.examined += 1;
          try {
            if (name === 'recordings') {
              const outcome = await this.#purgeRecording(geo, blob.name, now, holds);
              if (outcome === 'deleted') count('recordings');
              else summary.skippedForHold.push(outcome);
            } else {
              await this.#purgeLandingFile(geo, blob.name, now);
              count('landingFiles');
            }
          } catch (error) {
            summary.errors += 1;
            this.deps.logger.error('recording.purge_item_failed', {
              geography: geo.geography.key,
              code: name,
              errorName: error instanceof Error ? error.name : typeof error,
              detail: error instanceof Error ? error.message : String(error),
            });
          }
        }
      }
    }
    return summary;
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
