import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { PURGE_STALL_MS, type PurgeRunRecord } from '../../shared/retention/purge-run-record.js';
import { purgeRunStatus } from '../../shared/retention/purge-run-status.js';
import { nextDue } from '../../shared/retention/purge-schedules.js';
import { SCHEDULED_TIMERS_OFF, timerSchedule } from '../../shared/timer-schedules.js';
import { planChatRetention, planRecordingPurge } from '../../shared/retention/purge-planners.js';
import { recordPoisonedItem, workChatRetentionItem, workRecordingPurgeItem } from '../../shared/retention/purge-workers.js';
import { retentionPreview } from '../../shared/retention/retention-preview.js';
import { operationLogRecord } from '../../shared/oplog/operation-log.js';
import { services } from '../../shared/services.js';
import { aliceId, audio, uploadRecording } from '../support/recordings.js';
import { capturedLogger } from '../support/captured-logger.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { createInPartition } from '../support/seed-items.js';

/**
 * The exact rules of legal holds, the purge schedules, the purge run status (when a purge needs
 * attention and why, to the millisecond), and what the plan of a chat retention run picks: each
 * proved on the real stack by what is stored.
 */

let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;
const clock = new ManualClock(new Date('2026-03-01T10:00:00.000Z'));
const DAY = 86_400_000;
beforeAll(async () => {
  // No timer runs on its schedule: a chat purge run of its own on the hour plans due threads before the
  // test's run does, which then counts fewer (seen with every schedule at 2 s).
  stack = await startTestStack({ clock, env: { ...SCHEDULED_TIMERS_OFF, LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
  resource = await stack.createResource('holds-rules', 'Europe');
  other = await stack.createResource('holds-other', 'Europe');
});
afterAll(async () => stack?.stop());

const holdsPath = (name = resource.name) => `/api/management/resources/${name}/legalHolds`;
const listHolds = async (name = resource.name) => (await stack.management('GET', holdsPath(name))).body.value as Record<string, unknown>[];
const threadId = (n: number) => `19:${String(n).padStart(32, 'a')}@thread.v2`;

describe('legal holds', () => {
  it('refuses each malformed hold with the field and the message, and stores nothing', async () => {
    const identity = `8:acs:${resource.id}_${'0'.repeat(8)}-0000-0000-0000-000000000001`;
    const cases: [unknown, string | undefined, string][] = [
      [{ reason: 'r' }, 'target', "Invalid request body: target: target.kind must be 'thread' or 'identity'"],
      [{ target: { kind: 'room', threadId: threadId(1) }, reason: 'r' }, 'target.kind', "Invalid request body: target.kind: target.kind must be 'thread' or 'identity'"],
      [{ target: { kind: 'thread', threadId: 'nope' }, reason: 'r' }, 'target.threadId', 'Invalid request body: target.threadId: threadId must be a chat thread id (19:...@thread.v2)'],
      [{ target: { kind: 'thread', threadId: threadId(1), extra: 1 }, reason: 'r' }, 'target', 'Invalid request body: target: Unrecognized key: "extra"'],
      [{ target: { kind: 'identity', identityId: 'nope' }, reason: 'r' }, 'target.identityId', "Invalid request body: target.identityId: identityId must be a communication user id ('8:acs:...')"],
      [{ target: { kind: 'identity', identityId: identity } }, 'reason', 'Invalid request body: reason: reason is required'],
      [{ target: { kind: 'identity', identityId: identity }, reason: 7 }, 'reason', 'Invalid request body: reason: reason is required'],
      [{ target: { kind: 'identity', identityId: identity }, reason: '   ' }, 'reason', 'Invalid request body: reason: reason is required'],
      [{ target: { kind: 'identity', identityId: identity }, reason: 'x'.repeat(1001) }, 'reason', 'Invalid request body: reason: reason must be at most 1000 characters'],
      [{ target: { kind: 'thread', threadId: threadId(1) }, reason: 'r', extra: true }, undefined, 'Invalid request body: Unrecognized key: "extra"'],
    ];
    for (const [body, target, message] of cases) {
      const response = await stack.management('POST', holdsPath(), body);
      expect({ body, status: response.status, code: response.body.error.code, target: response.body.error.target, message: response.body.error.message }).toEqual({
        body,
        status: 400,
        code: 'ValidationError',
        target,
        message,
      });
    }
    // An identity of another resource.
    const foreign = `8:acs:${other.id}_${'0'.repeat(8)}-0000-0000-0000-000000000002`;
    const response = await stack.management('POST', holdsPath(), { target: { kind: 'identity', identityId: foreign }, reason: 'r' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', target: 'target.identityId', message: 'The identity does not belong to this resource.' });
    expect(await listHolds()).toEqual([]);
    expect(await listHolds(other.name)).toEqual([]);
  });

  it('stores exactly what was placed (reason trimmed, 1 000 characters allowed), lists newest first, releases once', async () => {
    const name = 'holds-lifecycle';
    const owner = await stack.createResource(name, 'Europe');
    const identityId = `8:acs:${owner.id}_${'0'.repeat(8)}-0000-0000-0000-000000000003`;
    clock.set(new Date('2026-03-02T10:00:00.000Z'));
    const first = await stack.management('POST', holdsPath(name), { target: { kind: 'thread', threadId: threadId(2) }, reason: '  Case 7  ' });
    clock.set(new Date('2026-03-02T11:00:00.000Z'));
    const second = await stack.management('POST', holdsPath(name), { target: { kind: 'identity', identityId }, reason: 'y'.repeat(1000) });
    expect([first.status, second.status]).toEqual([201, 201]);
    const placedFirst = { id: first.body.id, resourceId: owner.id, kind: 'legalHold', target: { kind: 'thread', threadId: threadId(2) }, reason: 'Case 7', placedAt: '2026-03-02T10:00:00.000Z', releasedAt: null };
    expect(first.body).toEqual(placedFirst);
    expect(first.body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(second.body.id).not.toBe(first.body.id);
    // Listed newest first, with exactly the hold's fields (nothing of the store's own).
    const listed = await listHolds(name);
    expect(listed.map((h) => h.id)).toEqual([second.body.id, first.body.id]);
    expect(listed[1]).toEqual({ ...placedFirst, releaseReason: undefined });
    expect(Object.keys(listed[1]!).sort()).toEqual(['id', 'kind', 'placedAt', 'reason', 'releasedAt', 'resourceId', 'target']);

    const active = await services().retention.holds.active(await services().resources.get(name));
    expect(active).toEqual({ threads: new Map([[threadId(2), [first.body.id]]]), identities: new Map([[identityId, [second.body.id]]]) });

    // Release: a reason of 1 001 characters or an empty one is refused, and nothing changes.
    for (const [body, message] of [
      [{ reason: 'z'.repeat(1001) }, 'Invalid request body: reason: reason must be at most 1000 characters'],
      [{ reason: '  ' }, 'Invalid request body: reason: Too small: expected string to have >=1 characters'],
      [{ why: 'x' }, 'Invalid request body: Unrecognized key: "why"'],
    ] as const) {
      const refused = await stack.management('POST', `${holdsPath(name)}/${first.body.id}/release`, body);
      expect([refused.status, refused.body.error.message]).toEqual([400, message]);
    }
    expect((await listHolds(name)).find((h) => h.id === first.body.id)!.releasedAt).toBeNull();

    clock.set(new Date('2026-03-03T09:00:00.000Z'));
    const released = await stack.management('POST', `${holdsPath(name)}/${first.body.id}/release`, {});
    expect(released.status).toBe(200);
    expect(released.body).toEqual({ ...placedFirst, releasedAt: '2026-03-03T09:00:00.000Z', releaseReason: null });
    // A second release answers the hold as it was released, and changes nothing.
    clock.set(new Date('2026-03-04T09:00:00.000Z'));
    const again = await stack.management('POST', `${holdsPath(name)}/${first.body.id}/release`, { reason: 'later' });
    expect(again.body).toEqual(released.body);
    expect((await listHolds(name)).find((h) => h.id === first.body.id)).toEqual({ ...placedFirst, releasedAt: '2026-03-03T09:00:00.000Z', releaseReason: null });
    const after = await services().retention.holds.active(await services().resources.get(name));
    expect(after).toEqual({ threads: new Map(), identities: new Map([[identityId, [second.body.id]]]) });

    // Two holds on one thread: both named, in the order listed (newest first).
    const third = await stack.management('POST', holdsPath(name), { target: { kind: 'thread', threadId: threadId(9) }, reason: 'a' });
    clock.set(new Date('2026-03-04T10:00:00.000Z'));
    const fourth = await stack.management('POST', holdsPath(name), { target: { kind: 'thread', threadId: threadId(9) }, reason: 'b' });
    const both = await services().retention.holds.active(await services().resources.get(name));
    expect(both.threads).toEqual(new Map([[threadId(9), [fourth.body.id, third.body.id]]]));
  });

  it('a release of an unknown hold is a 404 naming at most 64 characters of its id', async () => {
    const id = 'h'.repeat(100);
    const response = await stack.management('POST', `${holdsPath()}/${id}/release`, { reason: 'r' });
    expect(response.status).toBe(404);
    expect(response.body.error).toMatchObject({ code: 'NotFound', target: 'holdId', message: `Legal hold '${'h'.repeat(64)}' was not found.` });
  });
});

describe('purge schedules', () => {
  it('are the settings when set and not empty, the defaults otherwise', () => {
    expect(timerSchedule('chatRetention', {})).toBe('0 0 * * * *');
    expect(timerSchedule('recordingPurge', {})).toBe('0 */15 * * * *');
    expect(timerSchedule('chatRetention', { RETENTION_PURGE_SCHEDULE: '' })).toBe('0 0 * * * *');
    expect(timerSchedule('chatRetention', { RETENTION_PURGE_SCHEDULE: '0 5 * * * *', RECORDING_PURGE_SCHEDULE: '0 7 * * * *' })).toBe('0 5 * * * *');
    expect(timerSchedule('recordingPurge', { RETENTION_PURGE_SCHEDULE: '0 5 * * * *', RECORDING_PURGE_SCHEDULE: '0 7 * * * *' })).toBe('0 7 * * * *');
  });

  it('fall due in UTC whatever the process time zone, and never for a date that does not exist', async () => {
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      expect((await nextDue('0 0 3 * * *', new Date('2026-03-01T10:00:00.000Z')))?.toISOString()).toBe('2026-03-02T03:00:00.000Z');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    expect(await nextDue('0 0 0 31 2 *', new Date('2026-03-01T10:00:00.000Z'))).toBeUndefined();
  });
});

describe('purge run status', () => {
  const MISSED_GRACE_MS = 5 * 60_000;
  const base = { kind: 'recordingPurge' as const, examined: 0, deleted: {}, skippedForHold: [], errors: 0, stoppedAtBudget: false };
  const env = { RECORDING_PURGE_SCHEDULE: '0 0 * * * *' };
  const at = (iso: string, plusMs = 0) => new Date(Date.parse(iso) + plusMs);
  const status = (last: Record<string, unknown> | undefined, now: Date, schedule = env) => purgeRunStatus('recordingPurge', last as unknown as PurgeRunRecord | undefined, now, schedule);

  it('needs attention exactly when a run stalls, a due run is later than the grace, or the last one failed, and says why', async () => {
    expect(await status(undefined, at('2027-02-01T00:00:00.000Z'))).toEqual({ kind: 'recordingPurge', schedule: '0 0 * * * *', attention: false, why: 'no run recorded yet' });

    // A running run: stalled only once it made no progress for longer than PURGE_STALL_MS, however long ago it started.
    const running = { ...base, id: 'r1', status: 'running', startedAt: '2027-02-01T00:30:00.000Z', lastProgressAt: '2027-02-01T03:00:00.000Z' };
    expect(await status(running, at('2027-02-01T03:00:00.000Z', PURGE_STALL_MS))).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r1', status: 'running', startedAt: '2027-02-01T00:30:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: false,
    });
    expect(await status(running, at('2027-02-01T03:00:00.000Z', PURGE_STALL_MS + 1))).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r1', status: 'stalled', startedAt: '2027-02-01T00:30:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: true,
      why: 'the last run has made no progress since 2027-02-01T03:00:00.000Z',
    });

    // A finished run: missed once the next due time plus the grace has passed, not at it.
    const finished = { ...base, id: 'r2', status: 'succeeded', startedAt: '2027-02-01T00:45:00.000Z', finishedAt: '2027-02-01T00:46:00.000Z' };
    expect(await status(finished, at('2027-02-01T01:00:00.000Z', MISSED_GRACE_MS))).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r2', status: 'succeeded', startedAt: '2027-02-01T00:45:00.000Z', finishedAt: '2027-02-01T00:46:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: false,
    });
    expect(await status(finished, at('2027-02-01T01:00:00.000Z', MISSED_GRACE_MS + 1))).toMatchObject({ attention: true, why: 'a run was due at 2027-02-01T01:00:00.000Z and none started' });

    // A failed run needs attention at once, and that is the reason given.
    const failed = { ...base, id: 'r3', status: 'failed', startedAt: '2027-02-01T01:02:00.000Z', finishedAt: '2027-02-01T01:02:01.000Z', failure: 'boom' };
    expect(await status(failed, at('2027-02-01T01:02:02.000Z'))).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r3', status: 'failed', startedAt: '2027-02-01T01:02:00.000Z', finishedAt: '2027-02-01T01:02:01.000Z' },
      nextDueAt: '2027-02-01T02:00:00.000Z',
      attention: true,
      why: 'the last run failed',
    });

    // A schedule that never falls due: no next time, and never missed.
    const old = { ...base, id: 'r4', status: 'succeeded', startedAt: '2027-12-31T00:00:00.000Z', finishedAt: '2027-12-31T00:00:01.000Z' };
    expect(await status(old, at('2028-06-01T00:00:00.000Z'), { RECORDING_PURGE_SCHEDULE: '0 0 0 31 2 *' })).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 0 31 2 *',
      lastRun: { id: 'r4', status: 'succeeded', startedAt: '2027-12-31T00:00:00.000Z', finishedAt: '2027-12-31T00:00:01.000Z' },
      attention: false,
    });
  });
});

describe('purge run accounting', () => {
  const runs = () => services().retention.runs;
  const begin = async () => {
    const begun = await runs().begin('recordingPurge');
    expect(Object.keys(begun)).toEqual(['run']);
    return (begun as { run: PurgeRunRecord }).run;
  };

  it('a run ends only once its planning is over and its last item has settled, with exact counts and only the kinds it deleted', async () => {
    const run = await begin();
    await runs().addPlanned(run, 2);
    expect(await runs().finishPlanning(run)).toMatchObject({ status: 'running', planning: 'done', planned: 2, settled: 0 });
    expect(await runs().settle('recordingPurge', run.id, 'item-a', { result: 'done', deleted: { recordings: 1 } })).toBe(true);
    expect(await runs().get('recordingPurge', run.id)).toMatchObject({ status: 'running', planned: 2, settled: 1, done: 1 });
    expect(await runs().settle('recordingPurge', run.id, 'item-b', { result: 'done', deleted: { recordings: 2, landingFiles: 0 } })).toBe(true);
    const ended = await runs().get('recordingPurge', run.id);
    expect(ended).toMatchObject({ status: 'succeeded', planning: 'done', planned: 2, settled: 2, done: 2, held: 0, failed: 0, errors: 0 });
    // The kinds it deleted none of are left out (landingFiles here), not shown as 0.
    expect(ended!.deleted).toEqual({ recordings: 3 });
    expect(ended!.failure).toBeUndefined();
    expect(ended!.finishedAt).toBe(clock.now().toISOString());
  });

  it('a run with an item that failed on every attempt ends failed, saying how many went to the poison queue', async () => {
    const run = await begin();
    await runs().addPlanned(run, 3);
    await runs().finishPlanning(run);
    await runs().settle('recordingPurge', run.id, 'item-a', { result: 'done', deleted: { recordings: 1 } });
    await runs().settle('recordingPurge', run.id, 'item-b', { result: 'failed' });
    expect(await runs().get('recordingPurge', run.id)).toMatchObject({ status: 'running', settled: 2 });
    await runs().settle('recordingPurge', run.id, 'item-c', { result: 'failed' });
    const ended = await runs().get('recordingPurge', run.id);
    expect(ended).toMatchObject({ status: 'failed', planned: 3, settled: 3, done: 1, failed: 2, errors: 2, deleted: { recordings: 1 } });
    expect(ended!.failure).toBe('2 work item(s) failed on every attempt and went to the poison queue; what they were for is planned again by the next run.');
  });
});

describe('purge work items', () => {
  const runs = () => services().retention.runs;
  const begun = async (kind: 'chatRetention' | 'recordingPurge') => {
    const started = await runs().begin(kind);
    expect(Object.keys(started)).toEqual(['run']);
    const { run } = started as { run: PurgeRunRecord };
    await runs().addPlanned(run, 1);
    await runs().finishPlanning(run);
    return run;
  };

  it('an item of a resource that no longer exists is done with nothing deleted, and counted into its run', async () => {
    const run = await begun('chatRetention');
    const gone = '00000000-0000-4000-8000-00000000dead';
    const item = { v: 1, kind: 'chatThread', runId: run.id, geography: 'europe', resourceId: gone, threadId: threadId(7), reason: 'idle', expiry: clock.now().toISOString() } as const;
    expect(await workChatRetentionItem(services(), item)).toEqual({ result: 'done' });
    const ended = await runs().get('chatRetention', run.id);
    expect(ended).toMatchObject({ status: 'succeeded', planned: 1, settled: 1, done: 1, held: 0, failed: 0 });
    expect(ended!.deleted).toEqual({});
  });

  it("a resource's operation logs item deletes page after page (500 a page) and reports the total", async () => {
    const run = await begun('chatRetention');
    const owner = await stack.createResource('oplog-pages', 'Europe');
    const geo = services().stores.forGeography(geographyByKey('europe'));
    const old = new Date(clock.now().getTime() - 400 * DAY).toISOString();
    const records = Array.from({ length: 1001 }, (_, i) =>
      operationLogRecord({ resourceId: owner.id, time: old, operation: 'CreateIdentity', method: 'POST', status: 201, durationMs: 1, correlationId: `c-${i}`, subjects: [] }),
    );
    await createInPartition(await geo.container('operationLogs'), records[0]!.resourceDay, records);
    const item = { v: 1, kind: 'operationLogs', runId: run.id, geography: 'europe', resourceId: owner.id, before: clock.now().toISOString() } as const;
    const outcome = await workChatRetentionItem(services(), item);
    expect([outcome.result, outcome.deleted?.operationLogs]).toEqual(['done', 1001]);
    const left = await (await geo.container('operationLogs')).items.query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: owner.id }] }).fetchAll();
    expect(left.resources).toEqual([0]);
    expect((await runs().get('chatRetention', run.id))!.deleted.operationLogs).toBe(1001);
  });

  it('an item of a resource that exists but is no longer active (being deleted) is done with nothing deleted: its deletion takes the data', async () => {
    const run = await begun('chatRetention');
    const owner = await stack.createResource('leaving', 'Europe');
    const threads = await services().stores.forGeography(geographyByKey('europe')).container('chatThreads');
    const old = new Date(clock.now().getTime() - 400 * DAY).toISOString();
    await threads.items.create({ id: threadId(501), threadId: threadId(501), resourceId: owner.id, kind: 'thread', topic: 't', createdOn: old, createdBy: 'x', sequence: 1, lastActivityAt: old });
    const registered = (await services().registry.getByName('leaving'))!;
    expect(await services().registry.replace({ ...registered.resource, state: 'deleting' }, registered.etag)).toBe(true);
    // The item as the planner makes it (an idle thread's expiry is its last activity).
    const item = { v: 1, kind: 'chatThread', runId: run.id, geography: 'europe', resourceId: owner.id, threadId: threadId(501), reason: 'idle', expiry: old } as const;
    expect(await workChatRetentionItem(services(), item)).toEqual({ result: 'done' });
    const left = async () => (await threads.items.query({ query: 'SELECT c.id FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: owner.id }] }).fetchAll()).resources;
    expect(await left()).toEqual([{ id: threadId(501) }]);
    const ended = await runs().get('chatRetention', run.id);
    expect(ended).toMatchObject({ status: 'succeeded', settled: 1, done: 1, held: 0 });
    expect(ended!.deleted).toEqual({});
    // The same item of the resource while active deletes the thread.
    const again = (await services().registry.getByName('leaving'))!;
    expect(await services().registry.replace({ ...again.resource, state: 'active' }, again.etag)).toBe(true);
    const rerun = await begun('chatRetention');
    expect(await workChatRetentionItem(services(), { ...item, runId: rerun.id })).toMatchObject({ result: 'done', deleted: { chatThreads: 1 } });
    expect(await left()).toEqual([]);
  });

  it('a recording naming a held identity is held: the outcome names the hold, the run counts it, and the recording stays', async () => {
    const run = await begun('recordingPurge');
    const uploaded = await uploadRecording(stack, other, { content: audio(2048), date: clock.now() });
    expect(uploaded.status, uploaded.text).toBe(201);
    const recordingId = (uploaded.body as { id: string }).id;
    const placed = await stack.management('POST', holdsPath(other.name), { target: { kind: 'identity', identityId: aliceId(other.id) }, reason: 'litigation' });
    expect(placed.status).toBe(201);
    const item = { v: 1, kind: 'recording', runId: run.id, geography: 'europe', resourceId: other.id, recordingId } as const;
    expect(await workRecordingPurgeItem(services(), item)).toEqual({
      result: 'held',
      held: { resourceId: other.id, subjectType: 'recording', subjectId: recordingId, holdIds: [placed.body.id] },
    });
    const ended = await runs().get('recordingPurge', run.id);
    expect(ended).toMatchObject({ status: 'succeeded', settled: 1, done: 0, held: 1, failed: 0 });
    expect(ended!.deleted).toEqual({});
    const still = await stack.signed({ method: 'GET', endpoint: other.endpoint, path: `/recordings/${recordingId}`, key: other.primaryKey, date: clock.now() });
    expect(still.status).toBe(200);
  });

  it('a poisoned item is counted failed once and logged with its geography, resource, kind and run (and that it had settled, when it had)', async () => {
    const run = await begun('chatRetention');
    const item = { v: 1, kind: 'operationLogs', runId: run.id, geography: 'europe', resourceId: other.id, before: clock.now().toISOString() } as const;
    const { logger, lines } = capturedLogger();
    const svc = { ...services(), logger };
    await recordPoisonedItem(svc, 'chatRetention', item);
    await recordPoisonedItem(svc, 'chatRetention', item);
    const first = { level: 'error', event: 'purge.work_item_poisoned', geography: 'europe', resourceId: other.id, code: 'operationLogs', detail: `run ${run.id}: the work item failed on every attempt` };
    expect(lines).toEqual([first, { ...first, detail: `${first.detail} (it had settled before)` }]);
    expect(await runs().get('chatRetention', run.id)).toMatchObject({ status: 'failed', settled: 1, failed: 1, errors: 1 });
    // A geography's item names no resource.
    const geoRun = await begun('recordingPurge');
    await recordPoisonedItem(svc, 'recordingPurge', { v: 1, kind: 'landingFiles', runId: geoRun.id, geography: 'europe', at: clock.now().toISOString() });
    expect(lines[2]).toEqual({ level: 'error', event: 'purge.work_item_poisoned', geography: 'europe', code: 'landingFiles', detail: `run ${geoRun.id}: the work item failed on every attempt` });
  });

  it("a resource's operation logs item also deletes its expired e-mail data page after page, and totals each kind over the pages", async () => {
    const run = await begun('chatRetention');
    const owner = await stack.createResource('email-pages', 'Europe');
    const geo = services().stores.forGeography(geographyByKey('europe'));
    const past = new Date(clock.now().getTime() - 1).toISOString();
    const later = new Date(clock.now().getTime() + DAY).toISOString();
    const operations = await geo.container('emailOperations');
    const suppressions = await geo.container('emailSuppressions');
    const ops = Array.from({ length: 502 }, (_, i) => ({ id: `op-${i}`, resourceId: owner.id, kind: 'emailOperation', expiresAt: i === 501 ? later : past }));
    await createInPartition(operations, owner.id, ops);
    for (const [i, expiresAt] of [past, past, later].entries()) await suppressions.items.create({ id: `sup-${i}`, resourceId: owner.id, kind: 'emailSuppression', expiresAt });
    const item = { v: 1, kind: 'operationLogs', runId: run.id, geography: 'europe', resourceId: owner.id, before: clock.now().toISOString() } as const;
    // 500 operations on the first page, the 501st and both suppressions on the second.
    expect(await workChatRetentionItem(services(), item)).toEqual({ result: 'done', deleted: { operationLogs: 0, emailOperations: 501, emailSuppressions: 2 } });
    const ids = async (c: typeof operations) => (await c.items.query<string>({ query: 'SELECT VALUE c.id FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: owner.id }] }).fetchAll()).resources;
    expect(await ids(operations)).toEqual(['op-501']);
    expect(await ids(suppressions)).toEqual(['sup-2']);
    expect((await runs().get('chatRetention', run.id))!.deleted).toEqual({ emailOperations: 501, emailSuppressions: 2 });
  });

  it("a geography's privacy results item deletes the finished requests past their 7 days page after page, with their result bundles, and totals both", async () => {
    const run = await begun('chatRetention');
    const geo = services().stores.forGeography(geographyByKey('japan'));
    const requests = await geo.container('privacyRequests');
    const exports = await geo.blobContainer('exports');
    const past = new Date(clock.now().getTime() - 1).toISOString();
    const later = new Date(clock.now().getTime() + DAY).toISOString();
    const owner = '00000000-0000-4000-8000-0000000000a7';
    const records = Array.from({ length: 502 }, (_, i) => ({ id: `req-${i}`, resourceId: owner, kind: 'privacyRequest', expiresAt: i === 501 ? later : past, ...(i % 200 === 0 ? { result: { blobName: `${owner}/req-${i}.zip` } } : {}) }));
    await createInPartition(requests, owner, records);
    for (const i of [0, 200, 400]) await exports.getBlockBlobClient(`${owner}/req-${i}.zip`).upload('zip', 3);
    const item = { v: 1, kind: 'privacyResults', runId: run.id, geography: 'japan' } as const;
    // Requests 0, 200 and 400 had a result bundle (the unexpired 501st does not count).
    expect(await workChatRetentionItem(services(), item)).toEqual({ result: 'done', deleted: { privacyRequests: 501, privacyResults: 3 } });
    expect((await requests.items.query<string>('SELECT VALUE c.id FROM c').fetchAll()).resources).toEqual(['req-501']);
    const blobs: string[] = [];
    for await (const blob of exports.listBlobsFlat({ prefix: `${owner}/` })) blobs.push(blob.name);
    expect(blobs).toEqual([]);
    expect((await runs().get('chatRetention', run.id))!.deleted).toEqual({ privacyRequests: 501, privacyResults: 3 });
  });

  it("a geography's landing files item reports how many it deleted, 0 included", async () => {
    const run = await begun('recordingPurge');
    const item = { v: 1, kind: 'landingFiles', runId: run.id, geography: 'europe', at: clock.now().toISOString() } as const;
    expect(await workRecordingPurgeItem(services(), item)).toEqual({ result: 'done', deleted: { landingFiles: 0 } });
    expect(await runs().get('recordingPurge', run.id)).toMatchObject({ status: 'succeeded', settled: 1, done: 1 });
  });
});

describe('the chat retention plan', () => {
  it('plans in each geography each due thread, one operation logs item per active resource of that geography and one privacy results item, and logs the count', async () => {
    const japan = await stack.createResource('plan-japan', 'Japan', { retention: { idleThreadDays: 30 } });
    // One thread of it idle for 31 days: due.
    const idle = new Date(clock.now().getTime() - 31 * DAY).toISOString();
    await (await services().stores.forGeography(geographyByKey('japan')).container('chatThreads')).items.create({ id: threadId(601), threadId: threadId(601), resourceId: japan.id, kind: 'thread', topic: 't', createdOn: idle, createdBy: 'x', sequence: 1, lastActivityAt: idle });
    await stack.createResource('plan-gone', 'Europe');
    const gone = (await services().registry.getByName('plan-gone'))!;
    expect(await services().registry.replace({ ...gone.resource, state: 'deleting' }, gone.etag)).toBe(true);
    const expected: Record<string, number> = {};
    const resources = await services().registry.list();
    for (const geo of services().stores.all()) {
      const active = resources.filter((r) => r.state === 'active' && r.geographyKey === geo.geography.key);
      let due = 0;
      for (const r of active) due += (await services().retention.threads.plan(geo, r, 100_000)).due.length;
      expected[geo.geography.key] = due + active.length + 1;
    }
    expect(expected.japan).toBe(3);
    const { logger, lines } = capturedLogger();
    const run = await planChatRetention({ ...services(), logger });
    const planned = Object.fromEntries(lines.filter((l) => l.event === 'chatRetention.planned').map((l) => [l.geography, l.count]));
    expect(planned).toEqual(expected);
    expect(run).toMatchObject({ planning: 'done', planned: Object.values(expected).reduce((a, b) => a + b, 0) });
    await stack.idle();
  });

  it('takes policy expiries first, then idle threads, each thread once, at most the limit; lists only the held threads that are due', async () => {
    const name = 'plan-rules';
    const owner = await stack.createResource(name, 'Europe', { retention: { idleThreadDays: 30 } });
    const registered = await services().resources.get(name);
    const geo = services().stores.forGeography(geographyByKey('europe'));
    const threads = await geo.container('chatThreads');
    const now = clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    const put = (n: number, lastActivityAt: number, policyExpiresAt?: number) =>
      threads.items.create({ id: threadId(n), threadId: threadId(n), resourceId: owner.id, kind: 'thread', topic: 't', createdOn: iso(lastActivityAt), createdBy: 'x', sequence: 1, lastActivityAt: iso(lastActivityAt), ...(policyExpiresAt === undefined ? {} : { policyExpiresAt: iso(policyExpiresAt) }) });
    await put(101, now - 30 * DAY - 1); // idle one millisecond past the period
    await put(102, now - 30 * DAY); // idle exactly the period: not yet
    await put(103, now - DAY, now); // its policy expires now
    await put(104, now - DAY, now + 1); // its policy expires a millisecond from now
    await put(105, now - 31 * DAY, now - DAY); // both: once, as a policy expiry
    await put(106, now - 40 * DAY); // idle, held
    await put(107, now - DAY); // active, held
    const hold = async (n: number) => (await stack.management('POST', holdsPath(name), { target: { kind: 'thread', threadId: threadId(n) }, reason: 'r' })).body.id as string;
    const h106 = await hold(106);
    await hold(107); // an active thread under hold: not due, so not listed as kept

    const plan = await services().retention.threads.plan(geo, registered, 10);
    expect(plan.due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy', 'idle']);
    expect(plan.due.map((d) => d.threadId).slice(0, 2).sort()).toEqual([threadId(103), threadId(105)]);
    expect(plan.due[2]!.threadId).toBe(threadId(101));
    expect(plan.held).toEqual([{ resourceId: owner.id, subjectType: 'chatThread', subjectId: threadId(106), holdIds: [h106] }]);
    // The limit is exact, and a full limit of policy expiries leaves the idle ones for later.
    expect((await services().retention.threads.plan(geo, registered, 2)).due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy']);
    expect((await services().retention.threads.plan(geo, registered, 1)).due).toHaveLength(1);
    expect((await services().retention.threads.plan(geo, registered, 3)).due).toHaveLength(3);

    // The preview counts what the plan takes, by reason, and lists at most its limit (here 2 of 3).
    const kept = { count: 1, items: [{ resourceId: owner.id, subjectType: 'chatThread', subjectId: threadId(106), holdIds: [h106] }] };
    const limited = (await retentionPreview(services(), registered, 2)) as { chatThreads: Record<string, unknown>; keptForLegalHold: unknown };
    expect({ ...limited.chatThreads, due: (limited.chatThreads.due as { threadId: string }[]).map((d) => d.threadId).sort() }).toEqual({
      count: 3,
      idle: 1,
      retentionPolicy: 2,
      due: [threadId(103), threadId(105)],
      listedAll: false,
    });
    expect(limited.keptForLegalHold).toEqual(kept);
    const whole = (await retentionPreview(services(), registered, 3)) as { chatThreads: Record<string, unknown> };
    expect((whole.chatThreads.due as { threadId: string }[]).map((d) => d.threadId).sort()).toEqual([threadId(101), threadId(103), threadId(105)]);
    expect(whole.chatThreads.listedAll).toBe(true);

    // With idle deletion off, only the policy expiries are due, and a held idle thread is not listed as kept.
    expect((await stack.management('PUT', `/api/management/resources/${name}`, { geography: 'Europe', retention: { idleThreadDays: 0 } })).status).toBe(200);
    const off = await services().retention.threads.plan(geo, await services().resources.get(name), 10);
    expect(off.due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy']);
    expect(off.held).toEqual([]);
  });
});

describe('a planner while the previous run drains', () => {
  it('plans nothing, begins no run, and logs how many items the previous run still has and when it started', async () => {
    // The runs above began at this clock time too: a millisecond later, this one is the latest.
    const start = clock.now();
    clock.advance(1);
    try {
      const runs = services().retention.runs;
      const begun = await runs.begin('chatRetention');
      expect(Object.keys(begun)).toEqual(['run']);
      const { run } = begun as { run: PurgeRunRecord };
      await runs.addPlanned(run, 3);
      await runs.finishPlanning(run);
      await runs.settle('chatRetention', run.id, 'item-a', { result: 'done' });
      const { logger, lines } = capturedLogger();
      expect(await planChatRetention({ ...services(), logger })).toBeUndefined();
      expect(lines).toEqual([{ level: 'info', event: 'chatRetention.previous_run_draining', count: 2, detail: `run ${run.id} started ${run.startedAt}; nothing planned this time` }]);
      expect(await runs.get('chatRetention', run.id)).toMatchObject({ status: 'running', planned: 3, settled: 1 });
      // Drained, the next planner begins a run of its own.
      await runs.settle('chatRetention', run.id, 'item-b', { result: 'done' });
      await runs.settle('chatRetention', run.id, 'item-c', { result: 'done' });
      const next = await runs.begin('chatRetention');
      expect(Object.keys(next)).toEqual(['run']);
      await runs.finishPlanning((next as { run: PurgeRunRecord }).run);
    } finally {
      clock.set(start);
    }
  });
});

describe('a planner whose geography fails', () => {
  it('plans the other geographies, logs the failure, and ends planning failed, naming the geography and the error', async () => {
    // The runs above began at this clock time or a millisecond later: two milliseconds later, this one is the latest.
    const start = clock.now();
    clock.advance(2);
    try {
      const unreachable = () => Promise.reject(new Error('store unreachable'));
      const failing = new Set(['europe', 'japan']);
      const geos = services().stores.all().map((geo) => (failing.has(geo.geography.key) ? Object.create(geo, { container: { value: unreachable }, existingContainer: { value: unreachable } }) : geo));
      const stores = Object.create(services().stores, { all: { value: () => geos } });
      const { logger, lines } = capturedLogger();
      const run = await planChatRetention({ ...services(), stores, logger });
      const failed = geos.map((g) => g.geography.key).filter((key) => failing.has(key));
      expect(failed).toHaveLength(2);
      expect(lines.filter((l) => l.level === 'error')).toEqual(failed.map((geography) => ({ level: 'error', event: 'chatRetention.planning_failed', geography, detail: 'store unreachable' })));
      // Every other geography is planned (its privacy results item at least).
      const others = geos.map((g) => g.geography.key).filter((key) => !failing.has(key));
      expect(lines.filter((l) => l.event === 'chatRetention.planned').map((l) => l.geography)).toEqual(others);
      expect(run).toMatchObject({ planning: 'failed', failure: `Planning failed in ${failed.map((g) => `${g}: store unreachable`).join('; ')}`, errors: 1 });
      await stack.idle();
    } finally {
      clock.set(start);
    }
  });
});

describe('the recording purge plan', () => {
  it('plans each expired recording (a held one too: its worker keeps it) and one item for expired landing files, and logs, per geography, the count it planned', async () => {
    const start = clock.now();
    try {
      const uploaded = await uploadRecording(stack, other, { content: audio(1024), date: clock.now() });
      expect(uploaded.status, uploaded.text).toBe(201);
      clock.advance(400 * DAY);
      // Two files left in Japan's landing container, one of them expired: one landing files item for Japan.
      const japan = services().stores.forGeography(geographyByKey('japan'));
      const landing = (await japan.blobService()).getContainerClient(japan.blobContainerName('recording-landing'));
      await landing.createIfNotExists();
      const expiry = (ms: number) => ({ tags: { expiresAt: new Date(clock.now().getTime() + ms).toISOString() } });
      await landing.getBlockBlobClient('left-over/expired.wav').upload('x', 1, expiry(-1));
      await landing.getBlockBlobClient('left-over/later.wav').upload('x', 1, expiry(60_000));
      const { logger, lines } = capturedLogger();
      const run = await planRecordingPurge({ ...services(), logger });
      // This recording and the one of the held identity (uploaded by a work item test above): both in Europe.
      expect(lines.filter((l) => l.event === 'recordingPurge.planned')).toEqual([
        { level: 'info', event: 'recordingPurge.planned', geography: 'europe', count: 2 },
        { level: 'info', event: 'recordingPurge.planned', geography: 'japan', count: 1 },
      ]);
      expect(run).toMatchObject({ planning: 'done', planned: 3 });
      await stack.idle();
      const left: string[] = [];
      for await (const blob of landing.listBlobsFlat()) left.push(blob.name);
      expect(left).toEqual(['left-over/later.wav']);
      await landing.deleteBlob('left-over/later.wav');
    } finally {
      clock.set(start);
    }
  });
});
