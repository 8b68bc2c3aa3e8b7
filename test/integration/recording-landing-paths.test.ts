import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { audio, deliverBlobCreated, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Attacks on the landing ingestion through the BlobCreated event's subject and URL: dot segments,
 * encoded dots, a subject that disagrees with the URL, a blob outside the landing container. Each is
 * refused before storage is touched: no recording anywhere, the files involved keep their ETag, tags
 * and place.
 */

let stack: TestStack;
let victim: ResourceView;
let attacker: ResourceView;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
  [victim, attacker] = await Promise.all([stack.createResource('landing-victim', 'Europe'), stack.createResource('landing-attacker', 'Europe')]);
});
afterAll(async () => stack?.stop());

const account = () => BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
const LANDING = 'acs-europe-recording-landing';

async function landing(): Promise<ContainerClient> {
  const container = account().getContainerClient(LANDING);
  await container.createIfNotExists();
  return container;
}

const recordingsOf = async (resource: ResourceView) =>
  (await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, date: clock.now() })).body.value as unknown[];

const deliver = (subjectPath: string, url: string, etag: string | undefined) =>
  deliverBlobCreated(stack, { id: `attack-${Math.random().toString(36).slice(2)}`, subjectPath, url, ...(etag ? { etag } : {}) });

/** What must not change: the blob's ETag and tags. */
async function state(container: ContainerClient, name: string) {
  const blob = container.getBlobClient(name);
  return { etag: (await blob.getProperties()).etag, tags: (await blob.getTags()).tags };
}

describe('a BlobCreated event that names a blob by a path trick', () => {
  let victimFile: string;
  let etag: string;
  let before: Awaited<ReturnType<typeof state>>;

  beforeAll(async () => {
    victimFile = `${victim.id}/secret.wav`;
    const blob = (await landing()).getBlockBlobClient(victimFile);
    etag = (await blob.upload(audio(4000), 4000, { blobHTTPHeaders: { blobContentType: 'audio/wav' }, metadata: { recording: JSON.stringify(sampleMetadata(victim.id)) } })).etag!;
    before = await state(await landing(), victimFile);
  });

  const containerUrl = async () => (await landing()).url;

  it.each([
    ['dot segments in subject and URL', (c: string) => [`${LANDING}/blobs/${attacker.id}/../${victim.id}/secret.wav`, `${c}/${attacker.id}/../${victim.id}/secret.wav`]],
    ['encoded dot segments in the URL', (c: string) => [`${LANDING}/blobs/${attacker.id}/../${victim.id}/secret.wav`, `${c}/${attacker.id}/%2e%2e/${victim.id}/secret.wav`]],
    ['mixed-case encoded dots', (c: string) => [`${LANDING}/blobs/${attacker.id}/.%2E/${victim.id}/secret.wav`, `${c}/${attacker.id}/.%2E/${victim.id}/secret.wav`]],
    ['an encoded slash', (c: string) => [`${LANDING}/blobs/${attacker.id}/x%2f..%2f${victim.id}/secret.wav`, `${c}/${attacker.id}/x%2f..%2f${victim.id}/secret.wav`]],
    ['a subject that names another blob than the URL', (c: string) => [`${LANDING}/blobs/${attacker.id}/secret.wav`, `${c}/${victim.id}/secret.wav`]],
    ['a subject in another container than the URL', (c: string) => [`acs-europe-recordings/blobs/${victim.id}/secret.wav`, `${c}/${victim.id}/secret.wav`]],
  ])('%s: refused, nothing stored, the victim file untouched', async (_name, build) => {
    const [subject, url] = build(await containerUrl());
    const answer = await deliver(subject!, url!, etag);
    expect(answer.status).toBe(202);
    expect(await recordingsOf(attacker)).toEqual([]);
    expect(await recordingsOf(victim)).toEqual([]);
    expect(await state(await landing(), victimFile)).toEqual(before);
  });

  it('a subject with dot segments cannot retag a recording outside the landing container', async () => {
    const uploaded = await uploadRecording(stack, victim, { content: audio(1000), date: clock.now() });
    expect(uploaded.status).toBe(201);
    const recordings = account().getContainerClient('acs-europe-recordings');
    const name = `${victim.id}/${uploaded.body.id as string}`;
    const kept = await state(recordings, name);
    const decoy = (await landing()).getBlockBlobClient(`${attacker.id}/decoy.wav`);
    const decoyEtag = (await decoy.upload(audio(10), 10)).etag!;

    for (const path of [`../acs-europe-recordings/${name}`, `${attacker.id}/../../acs-europe-recordings/${name}`]) {
      // With the decoy's ETag, and with none (the event schema makes it optional).
      for (const eTag of [decoyEtag, undefined]) {
        expect((await deliver(`${LANDING}/blobs/${path}`, decoy.url, eTag)).status).toBe(202);
        expect((await deliver(`${LANDING}/blobs/${path}`, `${await containerUrl()}/${path}`, eTag)).status).toBe(202);
      }
    }
    expect(await state(recordings, name)).toEqual(kept);
    expect(((await recordingsOf(victim)) as { id: string }[]).map((r) => r.id)).toEqual([uploaded.body.id]);
    expect(await decoy.exists()).toBe(true);
  });

  it('the same file named plainly is still ingested (the check refuses tricks, not files)', async () => {
    const answer = await deliver(`${LANDING}/blobs/${victimFile}`, `${await containerUrl()}/${victimFile}`, etag);
    expect(answer.status).toBe(202);
    expect((await recordingsOf(victim)).length).toBe(2);
    expect(await (await landing()).getBlobClient(victimFile).exists()).toBe(false);
  });
});
