import { createHash } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { atLocation, audio, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Ingestion path 2 (a pipeline writes into the geography's landing container; the BlobCreated event
 * brings it in), at-least-once delivery, rejected files, and residency with one storage account per
 * geography.
 */

let stack: TestStack;
let japanStorage: EmbeddedBlob;
const clock = new ManualClock(new Date());
beforeAll(async () => {
  japanStorage = await startEmbeddedBlob(0);
  stack = await startTestStack({ clock, env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000', STORAGE_CONNECTION_STRING__JAPAN: japanStorage.connectionString } });
});
afterAll(async () => {
  await stack?.stop();
  await japanStorage?.stop();
});

type Event = { id: string; type: string; subject: string; data: Record<string, any> };
const readyEvents = () =>
  stack.topic!.received().map((r) => r.event as unknown as Event).filter((e) => e.type === 'Microsoft.Communication.RecordingFileStatusUpdated');
const defaultAccount = () => BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
const japanAccount = () => BlobServiceClient.fromConnectionString(japanStorage.connectionString);
const webhook = () => `${stack.httpUrl}/runtime/webhooks/eventgrid?functionName=recordingLanding`;
const listOf = async (resource: ResourceView) =>
  (await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, date: clock.now() })).body.value as Record<string, any>[];

async function landing(): Promise<ContainerClient> {
  const container = defaultAccount().getContainerClient('acs-europe-recording-landing');
  await container.createIfNotExists();
  return container;
}

async function drop(name: string, content: Buffer, metadata: unknown, mediaType = 'audio/wav') {
  const blob = (await landing()).getBlockBlobClient(name);
  const uploaded = await blob.upload(content, content.length, {
    blobHTTPHeaders: { blobContentType: mediaType },
    metadata: metadata === undefined ? {} : { recording: JSON.stringify(metadata) },
  });
  return { blob, etag: uploaded.etag! };
}

/** The event a storage account's system topic sends for a new blob (Event Grid schema). */
function blobCreated(url: string, name: string, etag: string) {
  return {
    id: createHash('sha256').update(url + etag).digest('hex').slice(0, 32),
    topic: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1',
    subject: `/blobServices/default/containers/acs-europe-recording-landing/blobs/${name}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: new Date().toISOString(),
    data: { api: 'PutBlob', eTag: etag, contentType: 'audio/wav', blobType: 'BlockBlob', url },
    dataVersion: '',
    metadataVersion: '1',
  };
}

const deliver = (event: unknown) =>
  fetch(webhook(), { method: 'POST', headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' }, body: JSON.stringify([event]) });

describe('landing container ingestion', () => {
  let resource: ResourceView;
  beforeAll(async () => {
    resource = await stack.createResource('landing-eu', 'Europe');
  });

  it('a file written to the landing container becomes a recording, announced once, and leaves the landing container', async () => {
    const content = audio(200_000);
    const { blob } = await drop(`${resource.id}/pipeline/call-1.wav`, content, sampleMetadata(resource.id));
    // The one file in the landing container, delivered once.
    expect(await stack.blobEvents!.poll()).toBe(1);

    const recordings = await listOf(resource);
    expect(recordings).toHaveLength(1);
    const [recording] = recordings;
    expect(recording).toMatchObject({ contentLength: content.length, contentType: 'audio/wav', recordingFormatType: 'Wav' });
    expect(await blob.exists()).toBe(false);
    const stored = defaultAccount().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${recording!.id}`);
    expect((await stored.getTags()).tags).toMatchObject({ expiresAt: recording!.expiresAt, resourceId: resource.id });
    expect((await stored.getProperties()).metadata).toMatchObject({ expiresat: recording!.expiresAt });

    const downloaded = await atLocation(stack, resource, 'GET', recording!.contentLocation as string, { date: clock.now() });
    expect(downloaded.status).toBe(200);
    expect(readyEvents().filter((e) => e.data.recordingStorageInfo.recordingChunks[0].documentId === recording!.id)).toHaveLength(1);
  });

  it('the same BlobCreated event delivered twice, one after the other or at once, ingests and announces once', async () => {
    for (const [name, concurrent] of [['call-2.wav', false], ['call-3.wav', true]] as const) {
      const { blob, etag } = await drop(`${resource.id}/${name}`, audio(50_000), sampleMetadata(resource.id, { callId: name }));
      const event = blobCreated(blob.url, `${resource.id}/${name}`, etag);
      const answers = concurrent ? await Promise.all([deliver(event), deliver(event)]) : [await deliver(event), await deliver(event)];
      expect(answers.map((a) => a.status)).toEqual([202, 202]);
      const recordings = (await listOf(resource)).filter((r) => r.callId === name);
      expect(recordings, name).toHaveLength(1);
      expect(readyEvents().filter((e) => e.subject.startsWith(`/recording/call/${name}/`)), name).toHaveLength(1);
    }
  });

  it('a file that cannot be ingested is tagged rejected with the reason and an expiry, and the purge removes it then', async () => {
    const japan = await stack.createResource('landing-jp', 'Japan');
    const wrongPlace = await drop(`${japan.id}/call.wav`, audio(10), sampleMetadata(japan.id));
    const badMetadata = await drop(`${resource.id}/bad.wav`, audio(10), { callId: 'x' });
    const unknownResource = await drop('not-a-resource/call.wav', audio(10), sampleMetadata(resource.id));
    // Exactly these three files are new in the landing container (the files above were ingested and removed).
    expect(await stack.blobEvents!.poll()).toBe(3);

    expect((await wrongPlace.blob.getTags()).tags).toMatchObject({ ingestStatus: 'rejected', ingestReason: 'otherGeography', resourceId: japan.id });
    expect((await badMetadata.blob.getTags()).tags).toMatchObject({ ingestStatus: 'rejected', ingestReason: 'invalidMetadata' });
    expect((await unknownResource.blob.getTags()).tags).toMatchObject({ ingestStatus: 'rejected', ingestReason: 'unknownResource', resourceId: 'unknown' });
    expect(await listOf(japan)).toEqual([]);
    expect(await japanAccount().getContainerClient('acs-japan-recordings').exists()).toBe(false);

    const { expiresAt } = (await wrongPlace.blob.getTags()).tags;
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(expiresAt!) + 1000));
      const purge = await fetch(`${stack.httpUrl}/admin/functions/recordingPurge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(purge.status).toBe(202);
      await stack.idle();
      for (const file of [wrongPlace, badMetadata, unknownResource]) expect(await file.blob.exists()).toBe(false);
    } finally {
      clock.set(start);
    }
  });
});

describe('residency', () => {
  it('a recording is stored in its geography account and nowhere else', async () => {
    const japan = await stack.createResource('rec-residency-jp', 'Japan');
    const europe = await stack.createResource('rec-residency-eu', 'Europe');
    const jp = await uploadRecording(stack, japan, { content: audio(1000), date: clock.now() });
    const eu = await uploadRecording(stack, europe, { content: audio(1000), date: clock.now() });
    expect([jp.status, eu.status]).toEqual([201, 201]);

    const where = async (id: string) => {
      const found: string[] = [];
      for (const [account, client] of [['default', defaultAccount()], ['japan', japanAccount()]] as const) {
        for await (const container of client.listContainers()) {
          for await (const blob of client.getContainerClient(container.name).listBlobsFlat()) {
            if (blob.name.includes(id)) found.push(`${account}:${container.name}`);
          }
        }
      }
      return found;
    };
    expect(await where(jp.body.id as string)).toEqual(['japan:acs-japan-recordings']);
    expect(await where(eu.body.id as string)).toEqual(['default:acs-europe-recordings']);
  });
});
