import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { signRequestHeaders } from '../../shared/auth/hmac-auth.js';
import { recordingId } from '../../shared/recordings/recording-record.js';
import { repeatabilityKey } from '../../shared/recordings/recording-repeatability.js';
import { atLocation, audio, multipartBody, RecordingFixture, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestResponse, type TestStack } from '../support/test-stack.js';

/**
 * Attacks on the upload API, on Azurite and the embedded Cosmos: repeatable uploads racing with
 * different files, `repeatability-first-sent` values that would stretch or void the retention, and
 * multipart bodies that end early.
 */

let stack: TestStack;
const clock = new ManualClock('2026-11-21T10:00:00Z');
beforeAll(async () => {
  // Small blocks, so an upload here spans several blocks and a cut body has staged some already.
  stack = await startTestStack({
    clock,
    env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000', RECORDING_UPLOAD_BLOCK_BYTES: String(1024 * 1024), RECORDING_MAX_BYTES: String(8 * 1024 * 1024) },
  });
});
afterAll(async () => stack?.stop());

const fixture = new RecordingFixture(() => stack, clock);
/** Every resource the tests create, for the purge's check at the end. */
const resources: ResourceView[] = [];
const createResource = async (name: string, extra?: Record<string, unknown>) => {
  const resource = await stack.createResource(name, 'Europe', extra);
  resources.push(resource);
  return resource;
};
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('base64');
const HOUR = 3600_000;
/** Listings give ETags bare, the other blob calls quoted. */
const unquoted = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

/** Only what the ACS error shape allows: `{"error": {"code", "message", "target"?}}`; without `target`, none may be given. */
function expectAcsError(response: TestResponse, status: number, code: string, target?: string) {
  expect(response.status, response.text).toBe(status);
  expect(Object.keys(response.body as object)).toEqual(['error']);
  const error = (response.body as { error: Record<string, unknown> }).error;
  expect(error.code).toBe(code);
  expect(typeof error.message).toBe('string');
  for (const key of Object.keys(error)) expect(['code', 'message', 'target']).toContain(key);
  expect(error.target).toBe(target);
  expect(response.text).not.toMatch(/at .*\.(ts|js):\d+/);
}

async function download(resource: ResourceView, location: string): Promise<{ status: number; bytes: Buffer }> {
  const url = new URL(location);
  const target = new URL(url.pathname + url.search, stack.httpUrl);
  const signed = signRequestHeaders({ method: 'GET', url: target.toString(), key: resource.primaryKey, date: clock.now() });
  const response = await fetch(target, { headers: signed });
  return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
}

const recordingCount = async (resourceId: string) => (await fixture.recordingItems(resourceId)).filter((item) => item.kind === 'recording').length;

/** Nothing of the resource in storage: no item, no committed blob, no blob with staged blocks. */
async function expectNothingStored(resourceId: string) {
  expect(await fixture.recordingItems(resourceId)).toEqual([]);
  expect(await fixture.recordingBlobs(resourceId)).toEqual([]);
  expect(await fixture.recordingBlobs(resourceId, { uncommitted: true })).toEqual([]);
}

describe('repeatable uploads racing with different files', () => {
  let resource: ResourceView;
  beforeAll(async () => {
    resource = await createResource('rec-race');
  });

  it('one upload wins (201), the same file again is 200 with its recording, another file 409; the record and the blob agree', async () => {
    const winners: string[] = [];
    for (const round of [1, 2, 3]) {
      const requestId = `race-${round}-5d5e-4b8e-9f1e-2f6c0f6b1a11`;
      const headers = { 'repeatability-request-id': requestId, 'repeatability-first-sent': clock.now().toUTCString() };
      const files = [audio(2_500_000), audio(2_500_000), audio(2_500_000)];
      const order = [0, 1, 2, 0, 1, 2];
      const responses = await Promise.all(order.map((file) => uploadRecording(stack, resource, { content: files[file], headers, date: clock.now() })));

      const statuses = responses.map((r) => r.status);
      expect(statuses.filter((s) => s === 201), `round ${round}: ${statuses.join(',')}`).toHaveLength(1);
      const winnerAt = statuses.indexOf(201);
      const winner = responses[winnerAt]!.body as Record<string, any>;
      const winningFile = files[order[winnerAt]!]!;
      winners.push(winner.id as string);
      responses.forEach((response, i) => {
        if (i === winnerAt) return;
        if (order[i] === order[winnerAt]) {
          expect(response.status, response.text).toBe(200);
          expect(response.body).toEqual(winner);
        } else {
          expectAcsError(response, 409, 'Conflict', 'repeatability-request-id');
        }
      });

      // The record and the blob agree, and the content is exactly the winner's file.
      const items = (await fixture.recordingItems(resource.id)).filter((item) => item.kind === 'recording');
      expect(items.map((item) => item.id).sort()).toContain(winner.id);
      expect(items).toHaveLength(round);
      // Exactly one recording per round: each round's winner, nothing of a loser.
      expect(items.map((item) => item.id).sort()).toEqual([...winners].sort());
      const record = items.find((item) => item.id === winner.id)!;
      expect(record.contentLength).toBe(winningFile.length);
      expect(record.contentSha256).toBe(sha256(winningFile));
      const committed = await fixture.recordingBlobs(resource.id);
      expect(committed).toHaveLength(round);
      expect(committed.map((b) => b.name).sort()).toEqual(winners.map((id) => `${resource.id}/${id}`).sort());
      const blob = committed.find((b) => b.name === `${resource.id}/${winner.id}`);
      expect(blob, 'the winner’s blob').toBeDefined();
      expect(blob!.contentLength).toBe(record.contentLength);
      expect(unquoted(blob!.etag)).toBe(unquoted(record.etag as string));
      // No loser left a blob of staged blocks behind, nor blocks on the winner's blob.
      expect(await fixture.recordingBlobs(resource.id, { uncommitted: true })).toHaveLength(round);
      expect((await fixture.recordingBlobs(resource.id, { uncommitted: true })).map((b) => b.name).sort()).toEqual(committed.map((b) => b.name).sort());
      const blocks = await fixture.blobs().getContainerClient('acs-europe-recordings').getBlockBlobClient(blob!.name).getBlockList('all');
      expect(blocks.uncommittedBlocks ?? []).toEqual([]);

      const content = await download(resource, winner.contentLocation as string);
      expect(content.status).toBe(200);
      expect(sha256(content.bytes)).toBe(sha256(winningFile));
      expect(fixture.eventsOf(winner.id as string).filter((e) => e.type === 'Microsoft.Communication.RecordingFileStatusUpdated')).toHaveLength(1);

      // Later retries: the same file is the same recording, another file still a conflict.
      const again = await uploadRecording(stack, resource, { content: winningFile, headers, date: clock.now() });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toEqual(winner);
      const other = await uploadRecording(stack, resource, { content: files[(order[winnerAt]! + 1) % 3], headers, date: clock.now() });
      expectAcsError(other, 409, 'Conflict', 'repeatability-request-id');
      expect(await fixture.recordingBlobs(resource.id, { uncommitted: true })).toHaveLength(round);
    }
  });

  /** The state an attempt leaves if it stops after winning the claim and committing its blob, before its record. */
  async function stoppedWinner(requestId: string, file: Buffer, claimedAt: Date) {
    const createdAt = new Date(Math.floor(clock.now().getTime() / 1000) * 1000);
    const id = recordingId(createdAt);
    const expiresAt = new Date(createdAt.getTime() + 48 * HOUR).toISOString();
    const key = repeatabilityKey(resource.id, requestId);
    const blob = fixture.blobs().getContainerClient('acs-europe-recordings').getBlockBlobClient(`${resource.id}/${id}`);
    const { etag } = await blob.upload(file, file.length, {
      blobHTTPHeaders: { blobContentType: 'audio/wav' },
      tags: { resourceId: resource.id, expiresAt, recordingId: id },
      metadata: { resourceid: resource.id, recordingid: id, createdat: createdAt.toISOString(), expiresat: expiresAt, repeatabilitykey: key },
    });
    await fixture.cosmosContainer('recordings').items.create({
      id: key,
      resourceId: resource.id,
      kind: 'recordingRepeatability',
      recordingId: id,
      contentSha256: sha256(file),
      contentLength: file.length,
      mediaType: 'audio/wav',
      etag,
      createdAt: createdAt.toISOString(),
      expiresAt,
      claimedAt: claimedAt.toISOString(),
    });
    return { id, headers: { 'repeatability-request-id': requestId, 'repeatability-first-sent': createdAt.toUTCString() } };
  }

  it('a winner that stopped before writing its record: the same file registers it (200, one event) within 10 minutes of the claim', async () => {
    const file = audio(3000);
    const stopped = await stoppedWinner('stopped-winner-recent', file, new Date(clock.now().getTime() - 10 * 60_000 + 1000));
    const different = await uploadRecording(stack, resource, { content: audio(3000), headers: stopped.headers, date: clock.now() });
    expectAcsError(different, 409, 'Conflict', 'repeatability-request-id');
    const retry = await uploadRecording(stack, resource, { content: file, headers: stopped.headers, date: clock.now() });
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body.id).toBe(stopped.id);
    expect(sha256((await download(resource, retry.body.contentLocation as string)).bytes)).toBe(sha256(file));
    expect(fixture.eventsOf(stopped.id).filter((e) => e.type === 'Microsoft.Communication.RecordingFileStatusUpdated')).toHaveLength(1);
    const again = await uploadRecording(stack, resource, { content: file, headers: stopped.headers, date: clock.now() });
    expect(again.body).toEqual(retry.body);
    expect(fixture.eventsOf(stopped.id).filter((e) => e.type === 'Microsoft.Communication.RecordingFileStatusUpdated')).toHaveLength(1);
  });

  it('10 minutes after its claim, a stopped winner’s claim is stale: the next attempt takes the id over (201)', async () => {
    const file = audio(3000);
    const stopped = await stoppedWinner('stopped-winner-stale', file, new Date(clock.now().getTime() - 10 * 60_000));
    const retry = await uploadRecording(stack, resource, { content: audio(3000), headers: stopped.headers, date: clock.now() });
    expect(retry.status, retry.text).toBe(201);
    expect(retry.body.id).not.toBe(stopped.id);
    const claim = (await fixture.recordingItems(resource.id)).find((item) => item.id === repeatabilityKey(resource.id, 'stopped-winner-stale'));
    expect(claim).toMatchObject({ recordingId: retry.body.id });
    // The stopped winner's blob has no record: never served, and purged at its expiry (below).
    expect((await atLocation(stack, resource, 'GET', (retry.body.deleteLocation as string).replace(retry.body.id as string, stopped.id), { date: clock.now() })).status).toBe(404);
  });

  it('a deleted recording frees its repeatability-request-id', async () => {
    const headers = { 'repeatability-request-id': 'deleted-then-again', 'repeatability-first-sent': clock.now().toUTCString() };
    const first = await uploadRecording(stack, resource, { content: audio(1000), headers, date: clock.now() });
    expect(first.status, first.text).toBe(201);
    expect((await atLocation(stack, resource, 'DELETE', first.body.deleteLocation as string, { date: clock.now() })).status).toBe(204);
    expect((await fixture.recordingItems(resource.id)).filter((item) => JSON.stringify(item).includes(first.body.id as string))).toEqual([]);
    const file = audio(1000);
    const second = await uploadRecording(stack, resource, { content: file, headers, date: clock.now() });
    expect(second.status, second.text).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
    expect(sha256((await download(resource, second.body.contentLocation as string)).bytes)).toBe(sha256(file));
  });
});

describe('repeatability-first-sent', () => {
  let resource: ResourceView;
  beforeAll(async () => {
    resource = await createResource('rec-first-sent');
  });
  const upload = (firstSent: string, requestId: string, on = resource) =>
    uploadRecording(stack, on, { content: audio(1000), headers: { 'repeatability-request-id': requestId, 'repeatability-first-sent': firstSent }, date: clock.now() });
  const at = (offsetMs: number) => new Date(clock.now().getTime() + offsetMs).toUTCString();
  const iso = (offsetMs: number) => new Date(clock.now().getTime() + offsetMs).toISOString();

  it('up to 5 minutes ahead (clock skew) counts as now, so the expiry is never past 48 hours; further ahead is a 400 naming the header', async () => {
    const before = await recordingCount(resource.id);
    const ahead = await upload(at(5 * 60_000), 'ahead-inside');
    expect(ahead.status, ahead.text).toBe(201);
    expect(ahead.body.createdAt).toBe(iso(0));
    expect(ahead.body.expiresAt).toBe(iso(48 * HOUR));

    const tooFar = await upload(at(5 * 60_000 + 1000), 'ahead-outside');
    expectAcsError(tooFar, 400, 'ValidationError', 'repeatability-first-sent');
    const wayTooFar = await upload(at(30 * 24 * HOUR), 'ahead-far');
    expectAcsError(wayTooFar, 400, 'ValidationError', 'repeatability-first-sent');
    expect(await recordingCount(resource.id)).toBe(before + 1);
  });

  it('so old that the recording would already be expired is a 400 naming the header; one second younger expires one second from now', async () => {
    const before = await recordingCount(resource.id);
    const expired = await upload(at(-48 * HOUR), 'old-outside');
    expectAcsError(expired, 400, 'ValidationError', 'repeatability-first-sent');
    expect(await recordingCount(resource.id)).toBe(before);

    const old = await upload(at(-48 * HOUR + 1000), 'old-inside');
    expect(old.status, old.text).toBe(201);
    expect(old.body.createdAt).toBe(iso(-48 * HOUR + 1000));
    expect(old.body.expiresAt).toBe(iso(1000));
    const start = clock.now();
    try {
      expect((await atLocation(stack, resource, 'GET', old.body.deleteLocation as string, { date: clock.now() })).status).toBe(200);
      clock.advance(1000);
      expect((await atLocation(stack, resource, 'GET', old.body.deleteLocation as string, { date: clock.now() })).status).toBe(404);
    } finally {
      clock.set(start);
    }
  });

  it("follows the resource's own retention, and refuses a value that is not an HTTP date", async () => {
    const short = await createResource('rec-first-sent-2h', { retention: { recordingHours: 2 } });
    expectAcsError(await upload(at(-2 * HOUR), 'short-outside', short), 400, 'ValidationError', 'repeatability-first-sent');
    const inside = await upload(at(-2 * HOUR + 1000), 'short-inside', short);
    expect(inside.status, inside.text).toBe(201);
    expect(inside.body.expiresAt).toBe(iso(1000));

    expectAcsError(await upload('yesterday', 'not-a-date', short), 400, 'ValidationError', 'repeatability-first-sent');
  });
});

describe('truncated multipart bodies', () => {
  let resource: ResourceView;
  beforeAll(async () => {
    resource = await createResource('rec-truncated');
  });

  const cuts: [string, (body: Buffer, contentLength: number) => number][] = [
    ['in the middle of the content', (body, length) => body.indexOf('\r\n\r\n', body.indexOf('name="content"')) + 4 + Math.floor(length / 2)],
    ['just before the closing boundary', (body) => body.lastIndexOf('\r\n--')],
    ['in the headers of the content part', (body) => body.indexOf('name="content"') + 8],
    ['in the headers of the metadata part', (body) => body.indexOf('name="metadata"') + 8],
  ];

  for (const [where, cutAt] of cuts) {
    it(`a body cut ${where} is a 400 in the ACS shape, and nothing is stored`, async () => {
      const file = audio(2_500_000);
      const { body, contentType } = await multipartBody({ metadata: sampleMetadata(resource.id), content: file });
      const cut = body.subarray(0, cutAt(body, file.length));
      expect(cut.length).toBeGreaterThan(0);
      expect(cut.length).toBeLessThan(body.length);
      const headers = { 'repeatability-request-id': `cut-${where}`, 'repeatability-first-sent': clock.now().toUTCString() };
      // Signed as sent (a client that lost the end of its own body), so the signature is not what fails.
      const response = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, body: cut, contentType, headers, date: clock.now() });
      expectAcsError(response, 400, 'ValidationError', 'body');
      await expectNothingStored(resource.id);

      // The whole body with the same repeatability id is then stored normally.
      const whole = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, body, contentType, headers, date: clock.now() });
      expect(whole.status, whole.text).toBe(201);
      expect(sha256((await download(resource, whole.body.contentLocation as string)).bytes)).toBe(sha256(file));
      expect((await atLocation(stack, resource, 'DELETE', whole.body.deleteLocation as string, { date: clock.now() })).status).toBe(204);
      await expectNothingStored(resource.id);
    });
  }
});

describe('at expiry', () => {
  it('the purge removes the recordings and their repeatability claims, the orphan blob of a stopped winner too', async () => {
    const start = clock.now();
    try {
      clock.advance(49 * HOUR);
      expect((await fixture.purge()).status).toBe(202);
      expect(resources).toHaveLength(4);
      for (const resource of resources) {
        expect(await fixture.recordingItems(resource.id), resource.name).toEqual([]);
        expect(await fixture.recordingBlobs(resource.id, { uncommitted: true }), resource.name).toEqual([]);
      }
    } finally {
      clock.set(start);
    }
  });
});
