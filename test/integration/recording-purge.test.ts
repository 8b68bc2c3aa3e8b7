import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { readRecording } from '../../shared/recordings/recording-store.js';
import { services } from '../../shared/services.js';
import { aliceId, atLocation, audio, RecordingFixture } from '../support/recordings.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/** Recording expiry: 404 from the expiry on, the purge (planned by the timer, one work item per recording, resumable), shorter periods, resource deletion. */

let stack: TestStack;
const clock = new ManualClock('2026-11-21T10:00:00Z');
beforeAll(async () => {
  stack = await startTestStack({ clock, env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
});
afterAll(async () => stack?.stop());

const fixture = new RecordingFixture(() => stack, clock);
const blobs = () => fixture.blobs();
const eventsOf = (id: string) => fixture.eventsOf(id);
const uploaded = (resource: Parameters<RecordingFixture['uploaded']>[0], content?: Buffer) => fixture.uploaded(resource, content);
const purge = () => fixture.purge();
const europe = () => services().stores.forGeography(geographyByKey('europe'));

describe('recording expiry and purge', () => {
  it('an expired recording is 404 at once; the purge removes it with an event and an audit record, and a rerun does nothing new', async () => {
    const resource = await stack.createResource('rec-expiry', 'Europe');
    const { view } = await uploaded(resource, audio(100));
    const blob = blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`);

    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(view.expiresAt as string) - 1000));
      expect((await atLocation(stack, resource, 'GET', view.metadataLocation, { date: clock.now() })).status).toBe(200);
      clock.advance(1000);
      expect((await atLocation(stack, resource, 'GET', view.metadataLocation, { date: clock.now() })).status).toBe(404);
      expect((await atLocation(stack, resource, 'GET', view.contentLocation, { date: clock.now() })).status).toBe(404);
      const list = await stack.signed({ method: 'GET', endpoint: resource.endpoint, path: '/recordings', key: resource.primaryKey, date: clock.now() });
      expect(list.body.value).toEqual([]);
      expect(await blob.exists()).toBe(true);

      expect((await purge()).status).toBe(202);
      expect(await blob.exists()).toBe(false);
      const deletion = eventsOf(view.id).filter((e) => e.type === 'AcsResidency.RecordingDeleted');
      expect(deletion).toHaveLength(1);
      expect(deletion[0]!.data).toMatchObject({ recordingId: view.id, reason: 'expired', expiresAt: view.expiresAt });
      expect(await fixture.auditRecordsOf(resource.id, view.id)).toEqual([expect.objectContaining({ action: 'recording.purged', reason: 'expired' })]);

      const eventsBefore = stack.topic!.received().length;
      expect((await purge()).status).toBe(202);
      expect(stack.topic!.received().length).toBe(eventsBefore);
    } finally {
      clock.set(start);
    }
  });

  it('honours a resource period shorter than 48 hours and refuses a longer one', async () => {
    const tooLong = await stack.management('PUT', '/api/management/resources/rec-short', { geography: 'Europe', retention: { recordingHours: 49 } });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.error.target).toBe('retention.recordingHours');
    const resource = await stack.createResource('rec-short', 'Europe', { retention: { recordingHours: 2 } });
    expect((resource as unknown as { retention: unknown }).retention).toEqual({ idleThreadDays: 30, logDays: 30, recordingHours: 2 });
    const { view } = await uploaded(resource, audio(10));
    expect(Date.parse(view.expiresAt as string) - Date.parse(view.createdAt as string)).toBe(2 * 3600_000);
  });
});

describe('legal holds', () => {
  it('a recording that lists a held identity outlives its expiry until the hold is released, and the run reports it', async () => {
    const resource = await stack.createResource('rec-held', 'Europe');
    const { view } = await uploaded(resource, audio(10));
    const hold = await stack.management('POST', '/api/management/resources/rec-held/legalHolds', { target: { kind: 'identity', identityId: aliceId(resource.id) }, reason: 'Case 7' });
    expect(hold.status).toBe(201);
    const blob = blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`);
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(view.expiresAt as string) + 1000));

      expect((await purge()).status).toBe(202);
      expect(await blob.exists()).toBe(true);
      const runs = await stack.management('GET', '/api/management/purgeRuns');
      expect(runs.body.runs.recordingPurge[0].skippedForHold).toEqual([{ resourceId: resource.id, subjectType: 'recording', subjectId: view.id, holdIds: [hold.body.id] }]);

      expect((await stack.management('POST', `/api/management/resources/rec-held/legalHolds/${hold.body.id}/release`, {})).status).toBe(200);
      expect((await purge()).status).toBe(202);
      expect(await blob.exists()).toBe(false);
    } finally {
      clock.set(start);
    }
  });
});

describe('resource deletion', () => {
  it('removes the resource\'s recordings, their items and audit records with it', async () => {
    const resource = await stack.createResource('rec-gone', 'Europe');
    const { view } = await uploaded(resource, audio(10));
    const deletedOne = await atLocation(stack, resource, 'DELETE', (await uploaded(resource, audio(10))).view.deleteLocation as string, { date: clock.now() });
    expect(deletedOne.status).toBe(204);
    const deleted = await stack.management('DELETE', '/api/management/resources/rec-gone');
    expect(deleted.status).toBe(200);
    expect(deleted.body.removed.blobs['acs-europe-recordings']).toBe(1);
    expect(deleted.body.removed.cosmos).toMatchObject({ recordings: 1, auditRecords: 1 });
    expect(deleted.body.removed).toEqual({
      cosmos: {
        // ResourceCreated, the 2 uploads' RecordingFileStatusUpdated, the deletion's RecordingDeleted.
        outbox: 4,
        identities: 0,
        chatThreads: 0,
        chatMemberships: 0,
        // The recording that was not deleted, and the deletion's audit record.
        recordings: 1,
        auditRecords: 1,
        legalHolds: 0,
        // 2 uploads and 1 delete.
        operationLogs: 3,
        privacyRequests: 0,
        erasureReceipts: 0,
        phoneNumberRecords: 0,
        smsRecords: 0,
        emailDomains: 0,
        emailOperations: 0,
        emailSuppressions: 0,
        messageChannels: 0,
        messageRecords: 0,
      },
      blobs: { 'acs-europe-recordings': 1 },
    });
    expect(deleted.body.eventsAwaitingPublication).toBe(0);
    expect(await blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`).exists()).toBe(false);
  });
});

describe('purge runs', () => {
  it('plan every expired recording as one work item each, and the run record counts what they did', async () => {
    const resource = await stack.createResource('rec-planned', 'Europe');
    const views = [];
    for (let i = 0; i < 3; i += 1) views.push((await uploaded(resource, audio(10))).view);
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(views[2]!.expiresAt as string) + 1000));
      expect((await purge()).status).toBe(202); // everything else that expired by now goes first
      for (let i = 0; i < 3; i += 1) views.push((await uploaded(resource, audio(10))).view);
      clock.set(new Date(Date.parse(views[5]!.expiresAt as string) + 1000));

      expect((await purge()).status).toBe(202);
      const [run] = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.recordingPurge;
      expect(run).toMatchObject({ status: 'succeeded', planning: 'done', planned: 3, done: 3, held: 0, failed: 0, settled: 3, deleted: { recordings: 3 }, errors: 0 });
      for (const view of views) expect(await blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`).exists()).toBe(false);
      const deletions = views.slice(3).flatMap((v) => eventsOf(v.id as string).filter((e) => e.type === 'AcsResidency.RecordingDeleted'));
      expect(deletions).toHaveLength(3);
    } finally {
      clock.set(start);
    }
  });

  it('a run stopped after the deletion change but before the blob delete finishes on rerun, without new event ids', async () => {
    const resource = await stack.createResource('rec-crash', 'Europe');
    const { view } = await uploaded(resource, audio(10));
    const start = clock.now();
    try {
      clock.set(new Date(Date.parse(view.expiresAt as string) + 1000));
      const svc = services();
      const record = await readRecording(europe(), resource.id, view.id as string);
      // What a run does before it deletes the blob, as if the process stopped right after it.
      await svc.recordings.purger.commitDeletion(europe(), (await svc.resources.get('rec-crash'))!, record!, 'expired', clock.now());
      const blob = blobs().getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${view.id}`);
      expect(await blob.exists()).toBe(true);

      const runsNow = async () => (await stack.management('GET', '/api/management/purgeRuns')).body.runs.recordingPurge as { id: string }[];
      const before = new Set((await runsNow()).map((r) => r.id));
      expect((await purge()).status).toBe(202);
      // This file moves the clock back after each test (runs of several tests start at the same time): the run is the new one.
      const rerun = (await runsNow()).find((r) => !before.has(r.id));
      expect(rerun).toMatchObject({ status: 'succeeded', planned: 1, done: 1, deleted: { recordings: 1 }, errors: 0 });
      expect(await blob.exists()).toBe(false);
      const deletions = eventsOf(view.id as string).filter((e) => e.type === 'AcsResidency.RecordingDeleted');
      expect(deletions).toHaveLength(1);
      expect((await fixture.auditRecordsOf(resource.id, view.id as string)).map((a) => a.action).sort()).toEqual(['recording.orphanBlobPurged', 'recording.purged']);
    } finally {
      clock.set(start);
    }
  });
});
