import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { addTotals, emptyTotals, PurgeRuns, type PurgeRunRecord } from '../../shared/retention/purge-runs.js';
import { nextDue, purgeSchedule } from '../../shared/retention/purge-schedules.js';
import { services } from '../../shared/services.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The exact rules of legal holds, the purge schedules and the purge run records (what each run
 * record holds, when a purge needs attention and why, to the millisecond), and what the plan of a
 * chat retention run picks: each proved on the real stack by what is stored.
 */

let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;
const clock = new ManualClock(new Date('2026-03-01T10:00:00.000Z'));
const DAY = 86_400_000;
beforeAll(async () => {
  stack = await startTestStack({ clock, env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
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
    expect(purgeSchedule('chatRetention', {})).toBe('0 0 * * * *');
    expect(purgeSchedule('recordingPurge', {})).toBe('0 */15 * * * *');
    expect(purgeSchedule('chatRetention', { RETENTION_PURGE_SCHEDULE: '' })).toBe('0 0 * * * *');
    expect(purgeSchedule('chatRetention', { RETENTION_PURGE_SCHEDULE: '0 5 * * * *', RECORDING_PURGE_SCHEDULE: '0 7 * * * *' })).toBe('0 5 * * * *');
    expect(purgeSchedule('recordingPurge', { RETENTION_PURGE_SCHEDULE: '0 5 * * * *', RECORDING_PURGE_SCHEDULE: '0 7 * * * *' })).toBe('0 7 * * * *');
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

describe('purge run records', () => {
  it('add up totals exactly', () => {
    const into = { examined: 2, deleted: { chatThreads: 1 }, skippedForHold: [], errors: 1, stoppedAtBudget: true };
    const held = { resourceId: 'r', subjectType: 'chatThread' as const, subjectId: 's', holdIds: ['h'] };
    expect(addTotals(into, { examined: 3, deleted: { chatThreads: 2, chatItems: 5 }, skippedForHold: [held], errors: 2, stoppedAtBudget: false })).toEqual({
      examined: 5,
      deleted: { chatThreads: 3, chatItems: 5 },
      skippedForHold: [held],
      errors: 3,
      stoppedAtBudget: true,
    });
    expect(addTotals(emptyTotals(), { ...emptyTotals(), stoppedAtBudget: true }).stoppedAtBudget).toBe(true);
  });

  const runsAt = (at: ManualClock, graceMs = 60_000) => new PurgeRuns({ control: services().control, clock: at, graceMs });
  const recordOf = async (runs: PurgeRuns, id: string) => (await runs.recent('recordingPurge', 50)).find((r) => r.id === id)!;

  it('record what a run did: its own id, its duration, the held items listed up to 200 and counted in full, a failure in 300 characters', async () => {
    const at = new ManualClock(new Date('2027-01-01T00:00:00.000Z'));
    const runs = runsAt(at);
    const held = Array.from({ length: 250 }, (_, i) => ({ resourceId: 'r', subjectType: 'recording' as const, subjectId: `rec-${i}`, holdIds: ['h'] }));
    const started = Date.now();
    const run = await runs.record('recordingPurge', async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      at.advance(5000);
      return { examined: 251, deleted: { recordings: 1 }, skippedForHold: held, errors: 0, stoppedAtBudget: false };
    });
    const wall = Date.now() - started;
    expect(run.id).toMatch(/^2027-01-01T00:00:00\.000Z_[0-9a-f]{8}$/);
    expect(run.durationMs).toBeGreaterThanOrEqual(30);
    expect(run.durationMs).toBeLessThanOrEqual(wall);
    const stored = await recordOf(runs, run.id);
    expect(stored).toEqual({
      id: run.id,
      kind: 'recordingPurge',
      status: 'succeeded',
      startedAt: '2027-01-01T00:00:00.000Z',
      finishedAt: '2027-01-01T00:00:05.000Z',
      durationMs: run.durationMs,
      examined: 251,
      deleted: { recordings: 1 },
      skippedForHold: held.slice(0, 200),
      skippedForHoldCount: 250,
      errors: 0,
      stoppedAtBudget: false,
    });
    expect(Object.keys(stored).filter((k) => k.startsWith('_'))).toEqual([]);

    at.advance(1000);
    const failed = await runs.record('recordingPurge', async () => {
      throw new Error('x'.repeat(400));
    });
    const odd = await runs.record('recordingPurge', async () => {
      throw 'plain';
    });
    expect(failed.id).not.toBe(odd.id);
    const failedStored = await recordOf(runs, failed.id);
    expect(failedStored).toMatchObject({ status: 'failed', failure: 'x'.repeat(300), examined: 0, deleted: {}, skippedForHoldCount: 0, errors: 0 });
    expect((await recordOf(runs, odd.id)).failure).toBe('plain');
  });

  it('need attention exactly when a due run is later than the grace, a run outlived the grace, or the last one failed, and say why', async () => {
    const graceMs = 60_000;
    const at = new ManualClock(new Date('2027-02-01T00:30:00.000Z'));
    const runs = runsAt(at, graceMs);
    const env = { RETENTION_PURGE_SCHEDULE: '0 0 * * * *', RECORDING_PURGE_SCHEDULE: '0 0 * * * *' };
    const status = async () => (await runs.status(env)).find((s) => s.kind === 'recordingPurge')!;
    const put = async (record: Partial<PurgeRunRecord>) => (await services().control.container('purgeRuns')).items.upsert({ kind: 'recordingPurge', ...emptyTotals(), ...record });

    // A running record: interrupted only once it is older than the grace.
    await put({ id: 'r1', status: 'running', startedAt: '2027-02-01T00:30:00.000Z' });
    at.set(new Date(Date.parse('2027-02-01T00:30:00.000Z') + graceMs));
    expect(await status()).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r1', status: 'running', startedAt: '2027-02-01T00:30:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: false,
    });
    at.advance(1);
    expect(await status()).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r1', status: 'interrupted', startedAt: '2027-02-01T00:30:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: true,
      why: 'the last run started and never finished',
    });

    // A finished run: missed once the next due time plus the grace has passed, not at it.
    await put({ id: 'r2', status: 'succeeded', startedAt: '2027-02-01T00:45:00.000Z', finishedAt: '2027-02-01T00:46:00.000Z' });
    at.set(new Date(Date.parse('2027-02-01T01:00:00.000Z') + graceMs));
    expect(await status()).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r2', status: 'succeeded', startedAt: '2027-02-01T00:45:00.000Z', finishedAt: '2027-02-01T00:46:00.000Z' },
      nextDueAt: '2027-02-01T01:00:00.000Z',
      attention: false,
    });
    at.advance(1);
    expect(await status()).toMatchObject({ attention: true, why: 'a run was due at 2027-02-01T01:00:00.000Z and none started' });

    // A failed run needs attention at once, and that is the reason given.
    await put({ id: 'r3', status: 'failed', startedAt: '2027-02-01T01:02:00.000Z', finishedAt: '2027-02-01T01:02:01.000Z', failure: 'boom' });
    at.set(new Date('2027-02-01T01:02:02.000Z'));
    expect(await status()).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 * * * *',
      lastRun: { id: 'r3', status: 'failed', startedAt: '2027-02-01T01:02:00.000Z', finishedAt: '2027-02-01T01:02:01.000Z' },
      nextDueAt: '2027-02-01T02:00:00.000Z',
      attention: true,
      why: 'the last run failed',
    });

    // A schedule that never falls due: no next time, and never missed.
    at.set(new Date('2028-01-01T00:00:00.000Z'));
    await put({ id: 'r4', status: 'succeeded', startedAt: '2027-12-31T00:00:00.000Z', finishedAt: '2027-12-31T00:00:01.000Z' });
    expect((await runs.status({ RECORDING_PURGE_SCHEDULE: '0 0 0 31 2 *' })).find((s) => s.kind === 'recordingPurge')).toEqual({
      kind: 'recordingPurge',
      schedule: '0 0 0 31 2 *',
      lastRun: { id: 'r4', status: 'succeeded', startedAt: '2027-12-31T00:00:00.000Z', finishedAt: '2027-12-31T00:00:01.000Z' },
      attention: false,
    });
  });
});

describe('the chat retention plan', () => {
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
    const [h106, h107] = [await hold(106), await hold(107)];

    const plan = await services().retention.threads.plan(geo, registered, 10);
    expect(plan.due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy', 'idle']);
    expect(plan.due.map((d) => d.threadId).slice(0, 2).sort()).toEqual([threadId(103), threadId(105)]);
    expect(plan.due[2]!.threadId).toBe(threadId(101));
    expect(plan.held).toEqual([{ resourceId: owner.id, subjectType: 'chatThread', subjectId: threadId(106), holdIds: [h106] }]);
    expect(h107).toBeTypeOf('string');
    // The limit is exact, and a full limit of policy expiries leaves the idle ones for later.
    expect((await services().retention.threads.plan(geo, registered, 2)).due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy']);
    expect((await services().retention.threads.plan(geo, registered, 1)).due).toHaveLength(1);
    expect((await services().retention.threads.plan(geo, registered, 3)).due).toHaveLength(3);

    // With idle deletion off, only the policy expiries are due, and a held idle thread is not listed as kept.
    expect((await stack.management('PUT', `/api/management/resources/${name}`, { geography: 'Europe', retention: { idleThreadDays: 0 } })).status).toBe(200);
    const off = await services().retention.threads.plan(geo, await services().resources.get(name), 10);
    expect(off.due.map((d) => d.reason)).toEqual(['retentionPolicy', 'retentionPolicy']);
    expect(off.held).toEqual([]);
  });
});
