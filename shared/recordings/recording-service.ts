import type { Readable } from 'node:stream';
import { ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import { contentRange, planRange } from './byte-range.js';
import { RecordingIngestion, type RecordingDeps } from './recording-ingestion.js';
import { RecordingLanding } from './recording-landing.js';
import { RecordingPurger } from './recording-purger.js';
import { isExpired, RECORDING_ID_PATTERN, type RecordingRecord } from './recording-record.js';
import { listRecordings, readRecording, recordingContentBlob } from './recording-store.js';
import { ignoreNotFound } from '../stores/not-found.js';

export interface RecordingContent {
  status: 200 | 206;
  headers: Record<string, string>;
  /** Undefined for HEAD. */
  body?: Readable;
}

/**
 * Call recordings of a resource, in its geography: ingestion (upload and landing container), reads,
 * download, deletion and the purge. An expired recording is gone for every API from its expiry on,
 * whether or not the purge has removed its blob yet.
 */
export class RecordingService {
  readonly ingestion: RecordingIngestion;
  readonly landing: RecordingLanding;
  readonly purger: RecordingPurger;

  constructor(private readonly deps: RecordingDeps) {
    this.ingestion = new RecordingIngestion(deps);
    this.landing = new RecordingLanding(deps, this.ingestion);
    this.purger = new RecordingPurger(deps);
  }

  async get(resource: Resource, id: string): Promise<RecordingRecord> {
    const record = RECORDING_ID_PATTERN.test(id) ? await readRecording(this.deps.stores.forResource(resource), resource.id, id) : undefined;
    if (!record || isExpired(record, this.deps.clock.now())) {
      throw new ServiceError('NotFound', `Recording '${id.slice(0, 64)}' was not found.`, { target: 'recordingId' });
    }
    return record;
  }

  async list(resource: Resource, options: { maxPageSize: number; before?: string }): Promise<{ records: RecordingRecord[]; more: boolean }> {
    return listRecordings(this.deps.stores.forResource(resource), resource.id, { ...options, now: this.deps.clock.now() });
  }

  /** Deletes a recording: the item, its event and audit record in one change, then the blob. */
  async delete(resource: Resource, id: string): Promise<void> {
    const geo = this.deps.stores.forResource(resource);
    const record = await this.get(resource, id);
    await this.purger.commitDeletion(geo, resource, record, 'deletedByRequest', this.deps.clock.now());
    // If this fails, the blob is no longer served (the item is gone) and the purge removes it at its expiry.
    const blob = await recordingContentBlob(geo, resource.id, id);
    await blob.delete({ deleteSnapshots: 'include' }).catch(ignoreNotFound);
  }

  /** The content, whole or one byte range, streamed from the blob. */
  async content(resource: Resource, id: string, request: { method: string; range: string | null; ifRange: string | null }): Promise<RecordingContent> {
    const record = await this.get(resource, id);
    const total = record.contentLength;
    const etag = record.etag;
    const headers: Record<string, string> = {
      'content-type': record.mediaType,
      'accept-ranges': 'bytes',
      etag,
      'content-disposition': `attachment; filename="${record.id}.${record.format.toLowerCase()}"`,
    };
    const plan = planRange(total, request.range, request.ifRange, etag);
    if (plan.status === 416) {
      throw new ServiceError('RangeNotSatisfiable', `The range is outside the recording's ${total} bytes.`, {
        target: 'Range',
        headers: { 'content-range': `bytes */${total}` },
      });
    }
    const [start, count] = plan.status === 206 ? [plan.start, plan.end - plan.start + 1] : [0, total];
    headers['content-length'] = String(count);
    if (plan.status === 206) headers['content-range'] = contentRange(plan.start, plan.end, total);
    if (request.method === 'HEAD' || count === 0) return { status: plan.status, headers };

    const blob = await recordingContentBlob(this.deps.stores.forResource(resource), resource.id, id);
    try {
      const download = await blob.download(start, count, { conditions: { ifMatch: etag } });
      return { status: plan.status, headers, body: download.readableStreamBody as Readable };
    } catch (error) {
      ignoreNotFound(error);
      throw new ServiceError('NotFound', `Recording '${id}' was not found.`, { target: 'recordingId' });
    }
  }
}
