import type { BlockBlobClient } from '@azure/storage-blob';
import type { GeoStore } from '../stores/geo-store.js';
import { recordingBlobName, type RecordingRecord } from './recording-record.js';

/** Reads of a geography's recording items and handles on their blobs. */
export async function readRecording(geo: GeoStore, resourceId: string, id: string): Promise<RecordingRecord | undefined> {
  const container = await geo.container('recordings');
  const { resource } = await container.item(id, resourceId).read<RecordingRecord>();
  return resource && resource.kind === 'recording' ? resource : undefined;
}

/**
 * A page of a resource's unexpired recordings, newest first (ids sort by creation time), after the
 * cursor `before` (an id).
 */
export async function listRecordings(
  geo: GeoStore,
  resourceId: string,
  options: { now: Date; maxPageSize: number; before?: string },
): Promise<{ records: RecordingRecord[]; more: boolean }> {
  const container = await geo.container('recordings');
  const parameters = [
    { name: '@rid', value: resourceId },
    { name: '@now', value: options.now.toISOString() },
    { name: '@top', value: options.maxPageSize + 1 },
    ...(options.before ? [{ name: '@before', value: options.before }] : []),
  ];
  const { resources } = await container.items
    .query<RecordingRecord>(
      {
        query: `SELECT TOP @top * FROM c WHERE c.resourceId = @rid AND c.kind = 'recording' AND c.expiresAt > @now${options.before ? ' AND c.id < @before' : ''} ORDER BY c.id DESC`,
        parameters,
      },
      { partitionKey: resourceId },
    )
    .fetchAll();
  return { records: resources.slice(0, options.maxPageSize), more: resources.length > options.maxPageSize };
}

export async function recordingContentBlob(geo: GeoStore, resourceId: string, id: string): Promise<BlockBlobClient> {
  return (await geo.blobContainer('recordings')).getBlockBlobClient(recordingBlobName(resourceId, id));
}
