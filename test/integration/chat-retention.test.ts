import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { WORK_QUEUES } from '../../shared/queues/work-queues.js';
import { services } from '../../shared/services.js';
import { chatClientFor, userRef, type ChatUser } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Chat retention on the real stack with a clock the tests move: idle threads, threads' own policies,
 * legal holds, the preview, bounded and resumed runs, and the run records.
 *
 * The clock is not put back after a test: run records are ordered by their start, so a test that went
 * back in time would record runs before an earlier test's and read the wrong "last" run. Instead time
 * only moves forward, and each test begins at its own start, a day after wherever the clock is, and
 * sets every time it uses from there: no test depends on the time another test left.
 */

let stack: TestStack;
const clock = new ManualClock(new Date());
const DAY = 86_400_000;
const HOUR = 3_600_000;
beforeAll(async () => {
  // The run-record tests compute due and missed runs from the hourly schedule, so it stays set; but no
  // timer fires on it: a run of its own on the hour, inside the test that ends a stalled run, would end
  // that run first (seen with every schedule at 2 s). The tests run the purge themselves.
  stack = await startTestStack({ clock, env: { LOCAL_BLOB_EVENTS_POLL_MS: '3600000' }, timers: false });
});
afterAll(async () => stack?.stop());

type Event = { id: string; type: string; subject: string; data: Record<string, any> };
const threadEvents = (threadId: string) =>
  stack.topic!.received().map((r) => r.event as unknown as Event).filter((e) => e.data.threadId === threadId);
/** Runs the planner now and waits until its work items are done (the run record is then complete). */
const runRetention = () => stack.runFunction('chatRetentionPurge');
const europe = () => services().stores.forGeography(geographyByKey('europe'));

/**
 * Users and tokens are made in-process at the service's clock, which the tests move forward by
 * months (a resource-key request would be refused: its x-ms-date is the real time).
 */
async function newUser(resource: ResourceView): Promise<ChatUser> {
  const created = await services().identities.create(await services().resources.get(resource.name), { scopes: ['chat'] });
  const id = created.identity.id;
  return { id, token: '', ...(await as(resource, { id })) };
}

/** A chat client for a user with a token issued at the service's (moved) clock. */
async function as(resource: ResourceView, user: { id: string }) {
  const token = await services().identities.issueToken(await services().resources.get(resource.name), user.id, ['chat'], 60);
  const chat = chatClientFor(stack, resource, token.token);
  return { chat, thread: (threadId: string) => chat.getChatThreadClient(threadId) };
}

async function threadOf(alice: ChatUser, bob: ChatUser, topic: string, retentionPolicy?: { kind: 'threadCreationDate'; deleteThreadAfterDays: number }) {
  const { chatThread } = await alice.chat.createChatThread({ topic }, { participants: [{ id: userRef(bob) }], ...(retentionPolicy ? { retentionPolicy } : {}) });
  return chatThread!.id;
}

async function threadExists(threadId: string): Promise<boolean> {
  const { resource } = await (await europe().container('chatThreads')).item(threadId, threadId).read();
  return resource !== undefined && !resource.deletedOn;
}

describe('idle threads', () => {
  it('are purged after the period and not a day before; activity resets the clock; the system deletion is announced', async () => {
    // Time only moves forward in this file (run records are ordered by their start).
    const start = clock.now().getTime() + DAY;
    clock.set(new Date(start));
    const resource = await stack.createResource('ret-idle', 'Europe');
    const [alice, bob] = await Promise.all([newUser(resource), newUser(resource)]);
    const active = await threadOf(alice, bob, 'active');
    const idle = await threadOf(alice, bob, 'idle');
    await alice.thread(idle).sendMessage({ content: 'hello' });

    clock.set(new Date(start + 29 * DAY));
    await runRetention();
    expect([await threadExists(active), await threadExists(idle)]).toEqual([true, true]);
    await (await as(resource, bob)).thread(active).sendMessage({ content: 'still here' });

    clock.set(new Date(start + 30 * DAY + 60_000));
    await runRetention();
    expect([await threadExists(active), await threadExists(idle)]).toEqual([true, false]);

    const deleted = threadEvents(idle).filter((e) => e.type.includes('Deleted') && e.type.includes('Thread'));
    expect(deleted.map((e) => e.type).sort()).toEqual([
      'Microsoft.Communication.ChatThreadDeleted',
      'Microsoft.Communication.ChatThreadWithUserDeleted',
      'Microsoft.Communication.ChatThreadWithUserDeleted',
    ]);
    expect(deleted.every((e) => e.data.deletedByCommunicationIdentifier === undefined && e.subject.includes('/deletedBy/system'))).toBe(true);
    const audit = await (await europe().container('auditRecords')).items
      .query({ query: 'SELECT * FROM c WHERE c.subjectId = @t', parameters: [{ name: '@t', value: idle }] })
      .fetchAll();
    expect(audit.resources).toEqual([expect.objectContaining({ action: 'chatThread.purged', reason: 'idle', subjectType: 'chatThread' })]);
    expect(JSON.stringify(audit.resources)).not.toContain('hello');

    clock.set(new Date(start + 59 * DAY + 60_000));
    await runRetention();
    expect(await threadExists(active)).toBe(false);
  });

  it('are kept when the resource sets idleThreadDays to 0; a thread\'s own policy still applies', async () => {
    // Time only moves forward in this file (run records are ordered by their start).
    const start = clock.now().getTime() + DAY;
    clock.set(new Date(start));
    const resource = await stack.createResource('ret-policy', 'Europe', { retention: { idleThreadDays: 0 } });
    const [alice, bob] = await Promise.all([newUser(resource), newUser(resource)]);
    const keep = await threadOf(alice, bob, 'kept');
    const policy = await threadOf(alice, bob, 'policy', { kind: 'threadCreationDate', deleteThreadAfterDays: 40 });
    for (const day of [10, 20, 30, 39]) {
      clock.set(new Date(start + day * DAY));
      await (await as(resource, alice)).thread(policy).sendMessage({ content: `day ${day}` });
    }
    clock.set(new Date(start + 40 * DAY - 60_000));
    await runRetention();
    expect(await threadExists(policy)).toBe(true);
    clock.set(new Date(start + 40 * DAY + 60_000));
    await runRetention();
    expect(await threadExists(policy)).toBe(false);
    clock.set(new Date(start + 400 * DAY));
    await runRetention();
    expect(await threadExists(keep)).toBe(true);
  });
});

describe('legal holds, preview and runs', () => {
  it('a held thread (and a held identity\'s thread) is kept and reported; the preview equals what the run deletes', async () => {
    // Time only moves forward in this file (run records are ordered by their start).
    const start = clock.now().getTime() + DAY;
    clock.set(new Date(start));
    const resource = await stack.createResource('ret-hold', 'Europe');
    const [alice, bob, carol] = await Promise.all([newUser(resource), newUser(resource), newUser(resource)]);
    const plain = [await threadOf(alice, bob, 'p1'), await threadOf(alice, bob, 'p2')];
    const heldThread = await threadOf(alice, bob, 'held thread');
    const carolsThread = await threadOf(carol, bob, 'held identity');

    const placed = await stack.management('POST', '/api/management/resources/ret-hold/legalHolds', { target: { kind: 'thread', threadId: heldThread }, reason: 'Case 42' });
    expect(placed.status).toBe(201);
    const identityHold = await stack.management('POST', '/api/management/resources/ret-hold/legalHolds', { target: { kind: 'identity', identityId: carol.id }, reason: 'Case 43' });
    expect(identityHold.status).toBe(201);
    const badHold = await stack.management('POST', '/api/management/resources/ret-hold/legalHolds', { target: { kind: 'thread', threadId: 'nope' }, reason: 'x' });
    expect(badHold.status).toBe(400);
    expect(badHold.body.error.target).toBe('target.threadId');

    clock.set(new Date(start + 31 * DAY));
    const preview = await stack.management('GET', '/api/management/resources/ret-hold/retention/preview');
    expect(preview.status).toBe(200);
    expect(preview.body.chatThreads.due.map((d: { threadId: string }) => d.threadId).sort()).toEqual([...plain].sort());
    expect(preview.body.keptForLegalHold.items.map((h: { subjectId: string }) => h.subjectId).sort()).toEqual([heldThread, carolsThread].sort());
    expect(await threadExists(plain[0]!)).toBe(true);

    await runRetention();
    for (const threadId of plain) expect(await threadExists(threadId)).toBe(false);
    expect([await threadExists(heldThread), await threadExists(carolsThread)]).toEqual([true, true]);
    const runs = await stack.management('GET', '/api/management/purgeRuns');
    const [last] = runs.body.runs.chatRetention;
    // Each of the two threads went with its 5 items (the thread, 2 participants, 2 system messages).
    expect(last).toMatchObject({ status: 'succeeded', startedAt: new Date(start + 31 * DAY).toISOString(), deleted: { chatThreads: 2, chatItems: 10 }, errors: 0 });
    const bySubject = (a: { subjectId: string }, b: { subjectId: string }) => a.subjectId.localeCompare(b.subjectId);
    expect([...last.skippedForHold].sort(bySubject)).toEqual(
      [
        { resourceId: resource.id, subjectType: 'chatThread', subjectId: heldThread, holdIds: [placed.body.id] },
        { resourceId: resource.id, subjectType: 'chatThread', subjectId: carolsThread, holdIds: [identityHold.body.id] },
      ].sort(bySubject),
    );
    expect(last.skippedForHoldCount).toBe(2);
    expect((await stack.management('GET', '/api/management/resources/ret-hold/retention/preview')).body.chatThreads.count).toBe(0);

    const released = await stack.management('POST', `/api/management/resources/ret-hold/legalHolds/${placed.body.id}/release`, { reason: 'Case closed' });
    expect(released.body).toMatchObject({ releaseReason: 'Case closed', reason: 'Case 42', placedAt: new Date(start).toISOString() });
    expect(released.body.releasedAt).toBe(new Date(start + 31 * DAY).toISOString());
    await runRetention();
    expect([await threadExists(heldThread), await threadExists(carolsThread)]).toEqual([false, true]);
    const holds = await stack.management('GET', '/api/management/resources/ret-hold/legalHolds');
    expect(holds.body.value).toHaveLength(2);
  });

  it('a run plans every due thread, and a work item delivered again repeats nothing: no new event id, counted once', async () => {
    // Time only moves forward in this file (run records are ordered by their start).
    const start = clock.now().getTime() + DAY;
    clock.set(new Date(start));
    const resource = await stack.createResource('ret-redeliver', 'Europe');
    const [alice, bob] = await Promise.all([newUser(resource), newUser(resource)]);
    const threads: string[] = [];
    for (let i = 0; i < 5; i += 1) threads.push(await threadOf(alice, bob, `t${i}`));
    clock.set(new Date(start + 31 * DAY));
    const preview = await stack.management('GET', '/api/management/resources/ret-redeliver/retention/preview');
    expect(preview.body.chatThreads).toMatchObject({ count: 5, idle: 5, retentionPolicy: 0, listedAll: true });
    const [first] = preview.body.chatThreads.due as { threadId: string; lastActivityAt: string }[];

    await runRetention();
    for (const threadId of threads) expect(await threadExists(threadId)).toBe(false);
    const [run] = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention;
    // 5 threads, 1 operation log item for each active resource of the file, 1 item per geography for finished privacy requests.
    expect(run).toMatchObject({ status: 'succeeded', planning: 'done', deleted: { chatThreads: 5, chatItems: 25 }, failed: 0, errors: 0 });
    expect(run.settled).toBe(run.planned);
    expect(run.done).toBe(run.planned);
    const deletionsOf = () => threads.flatMap((t) => threadEvents(t).filter((e) => e.type.startsWith('Microsoft.Communication.ChatThread') && e.type.endsWith('Deleted')));
    expect(deletionsOf()).toHaveLength(5 * 3);

    // The queue delivers the first thread's item once more (as after an instance died before deleting its message).
    const item = { v: 1, kind: 'chatThread', runId: run.id, geography: 'europe', resourceId: resource.id, threadId: first!.threadId, reason: 'idle', expiry: first!.lastActivityAt };
    await services().workQueues.send(WORK_QUEUES.chatRetention, item);
    await stack.idle();
    const deletions = deletionsOf();
    expect(deletions).toHaveLength(5 * 3);
    expect(new Set(deletions.map((e) => e.id)).size).toBe(deletions.length);
    const again = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention[0];
    expect(again).toEqual(run);
    const audit = await (await europe().container('auditRecords')).items
      .query({ query: 'SELECT VALUE c.subjectId FROM c WHERE c.resourceId = @r AND c.action = "chatThread.purged"', parameters: [{ name: '@r', value: resource.id }] })
      .fetchAll();
    expect(audit.resources.sort()).toEqual([...threads].sort());
  });

  it('a run still draining keeps the next planner from planning again; one stalled for 15 minutes is ended, counted from its markers', async () => {
    // Time only moves forward in this file (run records are ordered by their start).
    const start = clock.now().getTime() + DAY;
    clock.set(new Date(start));
    // A run whose planner died half-way: it started, planned nothing yet, and never ends by itself.
    const begun = await services().retention.runs.begin('chatRetention');
    if (!('run' in begun)) throw new Error('expected a new run');
    const stuck = begun.run;
    const runIds = async () => ((await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention as { id: string }[]).map((r) => r.id);
    const before = await runIds();

    clock.set(new Date(start + 10 * 60_000));
    await runRetention();
    // Still within 15 minutes of its last progress: taken as draining, nothing planned, no new run.
    expect(await runIds()).toEqual(before);
    const draining = (await stack.management('GET', '/api/management/purgeRuns')).body.status.find((s: { kind: string }) => s.kind === 'chatRetention');
    expect(draining).toMatchObject({ attention: false, lastRun: { id: stuck.id, status: 'running' } });

    clock.set(new Date(start + 16 * 60_000));
    const stalled = (await stack.management('GET', '/api/management/purgeRuns')).body.status.find((s: { kind: string }) => s.kind === 'chatRetention');
    expect(stalled).toMatchObject({ attention: true, lastRun: { id: stuck.id, status: 'stalled' }, why: `the last run has made no progress since ${new Date(start).toISOString()}` });
    await runRetention();
    const [latest, ended] = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention;
    expect(ended).toMatchObject({ id: stuck.id, status: 'failed', planning: 'failed', failure: 'Stalled: its planning never finished.', finishedAt: new Date(start + 16 * 60_000).toISOString() });
    expect(latest).toMatchObject({ status: 'succeeded', startedAt: new Date(start + 16 * 60_000).toISOString() });
  });

  it('the run records show when a purge did not run when it was due', async () => {
    // Its own start, on a half hour, so the hourly schedule's next run is due 30 minutes after it.
    const start = Math.ceil((clock.now().getTime() + DAY) / HOUR) * HOUR + 30 * 60_000;
    clock.set(new Date(start));
    await runRetention();
    const nextDueAt = new Date(start + 30 * 60_000).toISOString();
    const fresh = await stack.management('GET', '/api/management/purgeRuns');
    expect(fresh.body.status.find((s: { kind: string }) => s.kind === 'chatRetention')).toMatchObject({
      attention: false,
      lastRun: { status: 'succeeded', startedAt: new Date(start).toISOString() },
      nextDueAt,
    });
    clock.advance(3 * HOUR);
    const late = await stack.management('GET', '/api/management/purgeRuns');
    const status = late.body.status.find((s: { kind: string }) => s.kind === 'chatRetention');
    expect(status).toMatchObject({ attention: true, schedule: '0 0 * * * *', lastRun: { startedAt: new Date(start).toISOString() }, nextDueAt });
    expect(status.why).toBe(`a run was due at ${nextDueAt} and none started`);
  });
});
