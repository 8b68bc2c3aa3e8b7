import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { aliceId, atLocation, audio, multipartBody, RecordingFixture, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/** Recordings through the upload API, on Azurite and the embedded Cosmos, with a clock the tests move. */

let stack: TestStack;
const clock = new ManualClock('2026-11-21T10:00:00Z');
beforeAll(async () => {
  // Small blocks and a small size limit, so uploads here span several blocks and the limit is reachable.
  stack = await startTestStack({
    clock,
    env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000', RECORDING_UPLOAD_BLOCK_BYTES: String(1024 * 1024), RECORDING_MAX_BYTES: String(4 * 1024 * 1024) },
  });
});
afterAll(async () => stack?.stop());

const fixture = new RecordingFixture(() => stack, clock);
const blobs = () => fixture.blobs();
const eventsOf = (id: string) => fixture.eventsOf(id);
const uploaded = (resource: ResourceView, content?: Buffer, metadata?: unknown) => fixture.uploaded(resource, content, metadata);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('recording upload and download', () => {
  let resource: ResourceView;
  beforeAll(async () => {
    resource = await stack.createResource('rec-basic', 'Europe');
  });

  it('stores an upload in the geography with its expiry in index tags and metadata, and announces it once in the ACS shape', async () => {
    const { view, content } = await uploaded(resource);
    expect(view.id).toMatch(/^[0-9a-f]{32}$/);
    expect(view).toMatchObject({ contentType: 'audio/wav', contentLength: content.length, recordingFormatType: 'Wav', recordingContentType: 'Audio', recordingChannelType: 'Mixed' });
    expect(view.expiresAt).toBe('2026-11-23T10:00:00.000Z');

    const blob = blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`);
    expect((await blob.getTags()).tags).toMatchObject({ expiresAt: '2026-11-23T10:00:00.000Z', resourceId: resource.id });
    const properties = await blob.getProperties();
    expect(properties.metadata).toMatchObject({ expiresat: '2026-11-23T10:00:00.000Z', recordingid: view.id });
    expect(properties.contentLength).toBe(content.length);

    const events = eventsOf(view.id);
    expect(events.map((e) => e.type)).toEqual(['Microsoft.Communication.RecordingFileStatusUpdated']);
    const [event] = events;
    expect(event!.subject).toBe(`/recording/call/${sampleMetadata(resource.id).callId}/recordingId/${view.id}`);
    expect(event!.data).toEqual({
      recordingStorageInfo: {
        recordingChunks: [
          { documentId: view.id, index: 0, endReason: 'SessionEnded', contentLocation: view.contentLocation, metadataLocation: view.metadataLocation, deleteLocation: view.deleteLocation },
        ],
      },
      recordingStartTime: '2026-11-21T09:00:00.000Z',
      recordingDurationMs: 6620,
      recordingContentType: 'Audio',
      recordingChannelType: 'Mixed',
      recordingFormatType: 'Wav',
      sessionEndReason: 'CallEnded',
    });
    expect(view.contentLocation).toBe(`${stack.httpsUrl}/recordings/${view.id}/content?resource=rec-basic`);
  });

  it('streams the content back whole and by range, with the right headers', async () => {
    const { view, content } = await uploaded(resource, audio(2_600_000));
    const whole = await fetchBytes(resource, view.contentLocation);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/wav');
    expect(whole.headers.get('content-length')).toBe(String(content.length));
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(sha(whole.bytes)).toBe(sha(content));

    const middle = await fetchBytes(resource, view.contentLocation, { range: 'bytes=1000-1999' });
    expect(middle.status).toBe(206);
    expect(middle.headers.get('content-range')).toBe(`bytes 1000-1999/${content.length}`);
    expect(middle.headers.get('content-length')).toBe('1000');
    expect(middle.bytes.equals(content.subarray(1000, 2000))).toBe(true);

    const tail = await fetchBytes(resource, view.contentLocation, { range: 'bytes=-10' });
    expect(tail.status).toBe(206);
    expect(tail.bytes.equals(content.subarray(content.length - 10))).toBe(true);

    const open = await fetchBytes(resource, view.contentLocation, { range: `bytes=${content.length - 5}-` });
    expect(open.headers.get('content-range')).toBe(`bytes ${content.length - 5}-${content.length - 1}/${content.length}`);

    const outside = await atLocation(stack, resource, 'GET', view.contentLocation, { date: clock.now(), headers: { range: `bytes=${content.length}-` } });
    expect(outside.status).toBe(416);
    expect(outside.headers.get('content-range')).toBe(`bytes */${content.length}`);
    expect(outside.body.error).toMatchObject({ code: 'RangeNotSatisfiable', target: 'Range' });

    const stale = await fetchBytes(resource, view.contentLocation, { range: 'bytes=0-9', 'if-range': '"not-the-etag"' });
    expect(stale.status).toBe(200);
    expect(stale.bytes.length).toBe(content.length);

    const head = await atLocation(stack, resource, 'HEAD', view.contentLocation, { date: clock.now() });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(content.length));
  });

  it('answers the metadata document, the recording and the list of recordings', async () => {
    const listed = await stack.createResource('rec-list', 'Europe');
    const first = await uploaded(listed, audio(10));
    const start = clock.now();
    try {
      clock.advance(1000);
      const second = await uploaded(listed, audio(10), sampleMetadata(listed.id, { channelType: 'Unmixed', participants: [{ rawId: aliceId(listed.id), channel: 0 }] }));

      const metadata = await atLocation(stack, listed, 'GET', second.view.metadataLocation, { date: clock.now() });
      expect(metadata.status).toBe(200);
      expect(metadata.body).toMatchObject({
        resourceId: listed.id,
        callId: sampleMetadata(listed.id).callId,
        chunkDocumentId: second.view.id,
        chunkIndex: 0,
        chunkStartTime: '2026-11-21T09:00:00.000Z',
        chunkDuration: 6620,
        recordingInfo: { contentType: 'Audio', channelType: 'Unmixed', format: 'Wav' },
        participants: [{ participantId: aliceId(listed.id), channel: 0 }],
        expiresAt: second.view.expiresAt,
      });

      const got = await atLocation(stack, listed, 'GET', second.view.deleteLocation, { date: clock.now() });
      expect(got.body).toEqual(second.view);

      const page1 = await stack.signed({ method: 'GET', endpoint: listed.endpoint, path: '/recordings?maxPageSize=1', key: listed.primaryKey, date: clock.now() });
      expect(page1.status).toBe(200);
      expect(page1.body.value.map((r: { id: string }) => r.id)).toEqual([second.view.id]);
      const next = new URL(page1.body.nextLink as string);
      const page2 = await stack.signed({ method: 'GET', endpoint: listed.endpoint, path: next.pathname + next.search, key: listed.primaryKey, date: clock.now() });
      expect(page2.body.value.map((r: { id: string }) => r.id)).toEqual([first.view.id]);
      expect(page2.body.nextLink).toBeUndefined();
    } finally {
      clock.set(start);
    }
  });

  it('deletes a recording: 204, then 404 everywhere, its blob gone, a deletion event and an audit record', async () => {
    const { view } = await uploaded(resource, audio(100));
    const deleted = await atLocation(stack, resource, 'DELETE', view.deleteLocation, { date: clock.now() });
    expect(deleted.status).toBe(204);
    for (const location of [view.contentLocation, view.metadataLocation, view.deleteLocation]) {
      expect((await atLocation(stack, resource, 'GET', location, { date: clock.now() })).status).toBe(404);
    }
    expect((await atLocation(stack, resource, 'DELETE', view.deleteLocation, { date: clock.now() })).status).toBe(404);
    expect(await blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`).exists()).toBe(false);

    const deletion = eventsOf(view.id).filter((e) => e.type === 'AcsResidency.RecordingDeleted');
    expect(deletion).toHaveLength(1);
    expect(deletion[0]!.data).toMatchObject({ recordingId: view.id, reason: 'deletedByRequest' });
    const audit = await fixture.auditRecordsOf(resource.id, view.id);
    expect(audit).toEqual([expect.objectContaining({ action: 'recording.deleted', reason: 'deletedByRequest', subjectType: 'recording' })]);
    expect(JSON.stringify(audit)).not.toContain('+1425');
    expect(JSON.stringify(audit)).not.toContain(sampleMetadata(resource.id).callId);
  });

  it('takes the metadata as a file part too, and an MP4 video as AudioVideo', async () => {
    const { body, contentType } = await multipartBody({ metadata: sampleMetadata(resource.id), metadataAsFile: true, content: audio(100), mediaType: 'video/mp4' });
    const response = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, body, contentType, date: clock.now() });
    expect(response.status, response.text).toBe(201);
    expect(response.body).toMatchObject({ contentType: 'video/mp4', recordingFormatType: 'Mp4', recordingContentType: 'AudioVideo' });
  });

  it('refuses bad uploads with the ACS error naming the field, and stores nothing', async () => {
    const before = await countBlobs();
    const listed = async () => (await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, date: clock.now() })).body.value as { id: string }[];
    const listedBefore = (await listed()).map((r) => r.id);
    const send = async (parts: Parameters<typeof multipartBody>[0], contentType?: string) => {
      const { body, contentType: multipart } = await multipartBody(parts);
      return stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, body, contentType: contentType ?? multipart, date: clock.now() });
    };
    const cases: [string, Promise<Awaited<ReturnType<typeof send>>>, number, string][] = [
      ['no metadata', send({ content: audio(10) }), 400, 'metadata'],
      ['no content', send({ metadata: sampleMetadata(resource.id) }), 400, 'content'],
      ['metadata not JSON', send({ metadataText: '{nope', content: audio(10) }), 400, 'metadata'],
      ['participants missing', send({ metadata: { ...sampleMetadata(resource.id), participants: [] }, content: audio(10) }), 400, 'participants'],
      ['bad phone number', send({ metadata: sampleMetadata(resource.id, { participants: [{ phoneNumber: { value: '12' } }] }), content: audio(10) }), 400, 'participants.0.phoneNumber.value'],
      ['bad start time', send({ metadata: sampleMetadata(resource.id, { startTime: 'yesterday' }), content: audio(10) }), 400, 'startTime'],
      ['format disagrees with the file', send({ metadata: sampleMetadata(resource.id, { format: 'Mp3' }), content: audio(10) }), 400, 'format'],
      ['unsupported media type', send({ metadata: sampleMetadata(resource.id), content: audio(10), mediaType: 'text/plain' }), 415, 'content'],
      ['unknown part', send({ metadata: sampleMetadata(resource.id), content: audio(10), extra: [['note', 'x']] }), 400, 'note'],
      ['metadata twice', send({ metadata: sampleMetadata(resource.id), content: audio(10), extra: [['metadata', '{}']] }), 400, 'metadata'],
      ['not multipart', send({ metadata: sampleMetadata(resource.id), content: audio(10) }, 'application/octet-stream'), 415, 'Content-Type'],
    ];
    for (const [what, pending, status, target] of cases) {
      const response = await pending;
      expect(response.status, what).toBe(status);
      expect(response.body.error.target, what).toBe(target);
      expect(response.text, what).not.toMatch(/at .*\.(ts|js):\d+/);
    }
    // A tampered body (3 staged blocks): refused, and its staged blocks dropped, not left for a week.
    const repeatability = { 'repeatability-request-id': 'tampered-upload', 'repeatability-first-sent': clock.now().toUTCString() };
    const tampered = await uploadRecording(stack, resource, { tamper: true, content: audio(2_500_000), headers: repeatability, date: clock.now() });
    expect(tampered.status).toBe(401);
    // No blob of the resource is left with only staged blocks.
    expect(await fixture.recordingBlobs(resource.id, { uncommitted: true })).toEqual(await fixture.recordingBlobs(resource.id));
    const tooLarge = await uploadRecording(stack, resource, { content: audio(4 * 1024 * 1024 + 1), date: clock.now() });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('PayloadTooLarge');
    expect(await countBlobs()).toBe(before);
    const list = await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, date: clock.now() });
    expect(list.body.value.map((r: { contentLength: number }) => r.contentLength)).not.toContain(2_500_000);
    expect((await listed()).map((r) => r.id)).toEqual(listedBefore);
  });

  it('a repeated upload with the same repeatability-request-id is one recording', async () => {
    const headers = { 'repeatability-request-id': 'a6c3c1a4-5d5e-4b8e-9f1e-2f6c0f6b1a11', 'repeatability-first-sent': clock.now().toUTCString() };
    const content = audio(5000);
    const first = await uploadRecording(stack, resource, { content, headers, date: clock.now() });
    const again = await uploadRecording(stack, resource, { content, headers, date: clock.now() });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(eventsOf(first.body.id as string).filter((e) => e.type === 'Microsoft.Communication.RecordingFileStatusUpdated')).toHaveLength(1);
    const different = await uploadRecording(stack, resource, { content: audio(5000), headers, date: clock.now() });
    expect(different.status).toBe(409);
    expect(different.body.error.target).toBe('repeatability-request-id');
  });
});

async function fetchBytes(resource: ResourceView, location: string, headers: Record<string, string> = {}) {
  const url = new URL(location);
  const target = new URL(url.pathname + url.search, stack.httpUrl);
  const { signRequestHeaders } = await import('../../shared/auth/hmac-auth.js');
  const signed = signRequestHeaders({ method: 'GET', url: target.toString(), key: resource.primaryKey, date: clock.now() });
  const response = await fetch(target, { headers: { ...signed, ...headers } });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

async function countBlobs(): Promise<number> {
  let count = 0;
  for await (const container of blobs().listContainers()) {
    for await (const blob of blobs().getContainerClient(container.name).listBlobsFlat()) if (blob) count += 1;
  }
  return count;
}
