import { CosmosClient, type Container } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../shared/clock.js';
import { subjectHash } from '../../shared/privacy/privacy-subjects.js';
import { services } from '../../shared/services.js';
import { chatClientFor, createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { PrivacyClient } from '../support/privacy.js';
import { sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, toTestResponse, type ResourceView, type TestResponse, type TestStack } from '../support/test-stack.js';

/**
 * The retention promises at their exact boundaries, asserted on what is stored (Cosmos items and
 * blobs read straight from the embedded stores):
 *
 * - idle threads: `lastActivityAt < now - idleThreadDays` (elapsed milliseconds, not calendar days);
 * - operation logs: `time < now - logDays`, except records naming an identity under legal hold;
 * - privacy requests and their results: gone from `completedAt + 7 days` on (`expiresAt <= now`);
 * - erasure receipts: subjects only as hashes keyed per resource, nothing in clear left anywhere;
 * - failed operations: one log record each for an authenticated caller, none without a resource;
 * - a privacy request that fails 10 runs in a row is `failed`, and not after 9.
 *
 * The purge planners and the privacy planner run only when a test asks (`POST /admin/functions/{name}`,
 * then the work items they enqueued are worked off).
 * Each test that moves time does it on a ManualClock of its own, switched in for the test and the
 * system clock switched back in `finally`; the other tests run on the system clock.
 */

const NEVER = '0 0 0 1 1 *';
const DAY = 86_400_000;
const IDENTITY_API = 'api-version=2023-10-01';
const CHAT_API = 'api-version=2025-03-15';

/** The stack's clock: the system clock, or a test's own ManualClock while that test runs. */
class SwitchableClock implements Clock {
  #current: Clock = systemClock;

  now(): Date {
    return this.#current.now();
  }

  async with<T>(manual: ManualClock, work: (clock: ManualClock) => Promise<T>): Promise<T> {
    this.#current = manual;
    try {
      return await work(manual);
    } finally {
      this.#current = systemClock;
    }
  }
}

let stack: TestStack;
const clock = new SwitchableClock();

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    env: {
      RETENTION_PURGE_SCHEDULE: NEVER,
      RECORDING_PURGE_SCHEDULE: NEVER,
      PRIVACY_WORKER_SCHEDULE: NEVER,
      LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
    },
  });
});
afterAll(async () => stack?.stop());

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const geoContainer = (geography: string, name: string): Container => cosmos().database(`acs-${geography}`).container(name);
const blobAccount = () => BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);

async function runTimer(name: 'chatRetentionPurge' | 'privacyWorker'): Promise<void> {
  await stack.runFunction(name);
}

/** A resource-key request, signed at the stack's (possibly moved) clock. */
function signed(resource: ResourceView, method: string, path: string, body?: unknown, key = resource.primaryKey): Promise<TestResponse> {
  return stack.signed({ method, endpoint: resource.endpoint, path, key, ...(body === undefined ? {} : { body: JSON.stringify(body) }), date: clock.now() });
}

async function createIdentity(resource: ResourceView): Promise<string> {
  const response = await signed(resource, 'POST', `/identities?${IDENTITY_API}`, {});
  expect(response.status, response.text).toBe(201);
  return response.body.identity.id as string;
}

interface LogRecord {
  id: string;
  resourceDay: string;
  resourceId: string;
  time: string;
  operation: string;
  method: string;
  status: number;
  correlationId: string;
  subjects: string[];
}

async function logRecords(geography: string, resourceId: string): Promise<LogRecord[]> {
  const { resources } = await geoContainer(geography, 'operationLogs')
    .items.query<LogRecord>({ query: 'SELECT * FROM c WHERE c.resourceId = @rid ORDER BY c.id', parameters: [{ name: '@rid', value: resourceId }] })
    .fetchAll();
  return resources;
}

/** Every operation log record of every geography (a missing database or container counts as none). */
async function allLogRecordCount(): Promise<number> {
  const client = cosmos();
  const { resources: databases } = await client.databases.readAll().fetchAll();
  let count = 0;
  for (const db of databases.filter((d) => d.id.startsWith('acs-') && d.id !== 'acs-control')) {
    const { resources: containers } = await client.database(db.id).containers.readAll().fetchAll();
    if (!containers.some((c) => c.id === 'operationLogs')) continue;
    const { resources } = await client.database(db.id).container('operationLogs').items.query<number>('SELECT VALUE COUNT(1) FROM c').fetchAll();
    count += resources[0] ?? 0;
  }
  return count;
}

// ---------------------------------------------------------------------------------------------

describe('idle thread retention', () => {
  it('keeps a thread idle up to exactly idleThreadDays (to the millisecond, whatever the time of day) and deletes it 1 ms later', async () => {
    // Day 0 starts at a UTC midnight, so the threads' last activity falls at chosen times of day.
    const day0 = Math.floor(Date.now() / DAY) * DAY + 2 * DAY;
    const at = (day: number, time: string) => day0 + day * DAY + Date.parse(`1970-01-01T${time}Z`);
    await clock.with(new ManualClock(new Date(day0)), async (manual) => {
      const threads: { id: string; lastActivity: number; days: number; label: string }[] = [];
      // The 1-day resource's threads are active two days later than the 3-day resource's, so both
      // reach their boundaries at the same instants (one purge run checks both).
      for (const [days, firstDay] of [[3, 0], [1, 2]] as const) {
        const resource = await stack.createResource(`idle-${days}d`, 'Europe', { retention: { idleThreadDays: days } });
        const registered = await services().resources.get(resource.name);
        const [alice, bob] = [(await services().identities.create(registered, {})).identity.id, (await services().identities.create(registered, {})).identity.id];
        /** A chat client of alice's with a token issued now (the clock moves by days between uses). */
        const aliceChat = async () => chatClientFor(stack, resource, (await services().identities.issueToken(registered, alice, ['chat'], 60)).token);
        const plan: { label: string; created: string; message?: string }[] = [
          { label: 'created at 00:00:00.000', created: '00:00:00.000' },
          { label: 'created at 12:34:56.789', created: '12:34:56.789' },
          { label: 'created at 23:59:59.999', created: '23:59:59.999' },
          // Created at midnight, last active (a message) at 12:34:56.789: the message, not the creation, counts.
          ...(days === 3 ? [{ label: 'created at 00:00:00.000, message at 12:34:56.789', created: '00:00:00.000', message: '12:34:56.789' }] : []),
        ];
        for (const { label, created } of plan.sort((x, y) => x.created.localeCompare(y.created))) {
          manual.set(new Date(at(firstDay, created)));
          const { chatThread } = await (await aliceChat()).createChatThread({ topic: label }, { participants: [{ id: userRef({ id: bob }) }] });
          threads.push({ id: chatThread!.id, lastActivity: at(firstDay, created), days, label: `${days}-day resource, ${label}` });
        }
        for (const { label, message } of plan.filter((p) => p.message)) {
          manual.set(new Date(at(firstDay, message!)));
          const thread = threads.find((t) => t.label.endsWith(label))!;
          await (await aliceChat()).getChatThreadClient(thread.id).sendMessage({ content: 'activity' });
          thread.lastActivity = at(firstDay, message!);
        }
      }
      // What the purge compares is stored as set: the instant of the last activity, in milliseconds.
      for (const t of threads) expect((await threadItem(t.id))?.lastActivityAt, t.label).toBe(new Date(t.lastActivity).toISOString());

      // Both sides of every thread's boundary. Day 3 00:00:00.000 is also where counting calendar
      // days would differ (the 23:59:59.999 threads are then idle 2 days and 1 ms, resp. 1 ms).
      const instants = [
        at(2, '23:59:59.999'), // idle 2 days 23:59:59.999 (3-day, midnight thread): kept
        at(3, '00:00:00.000'), // exactly 3 days (3-day, midnight threads) / 1 day (1-day, midnight thread): kept
        at(3, '00:00:00.001'), // 1 ms more: those go
        at(3, '12:34:56.789'),
        at(3, '12:34:56.790'),
        at(3, '23:59:59.999'),
        at(4, '00:00:00.000'),
      ];
      for (const instant of instants) {
        manual.set(new Date(instant));
        await runRetention();
        for (const t of threads) {
          const stored = await threadItem(t.id);
          const kept = stored !== undefined && !stored.deletedOn;
          expect(kept, `${t.label}: idle ${instant - t.lastActivity - t.days * DAY} ms past ${t.days} days at ${new Date(instant).toISOString()}`).toBe(
            instant - t.lastActivity <= t.days * DAY,
          );
        }
      }
      // Every thread went at its boundary: nothing is left in its partition, and an audit record says why.
      for (const t of threads) {
        const { resources } = await geoContainer('europe', 'chatThreads')
          .items.query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.threadId = @t', parameters: [{ name: '@t', value: t.id }] }, { partitionKey: t.id })
          .fetchAll();
        expect(resources[0], t.label).toBe(0);
      }
      const { resources: audits } = await geoContainer('europe', 'auditRecords')
        .items.query<{ subjectId: string; reason: string }>({
          query: "SELECT c.subjectId, c.reason FROM c WHERE c.action = 'chatThread.purged' AND ARRAY_CONTAINS(@ids, c.subjectId)",
          parameters: [{ name: '@ids', value: threads.map((t) => t.id) }],
        })
        .fetchAll();
      expect(audits.map((a) => `${a.subjectId} ${a.reason}`).sort()).toEqual(threads.map((t) => `${t.id} idle`).sort());
    });
  });
});

async function runRetention(): Promise<void> {
  await runTimer('chatRetentionPurge');
}

async function threadItem(threadId: string): Promise<{ lastActivityAt: string; deletedOn?: string | null } | undefined> {
  const { resource } = await geoContainer('europe', 'chatThreads').item(threadId, threadId).read();
  return resource as { lastActivityAt: string; deletedOn?: string | null } | undefined;
}

// ---------------------------------------------------------------------------------------------

describe('operation log retention', () => {
  it('keeps a record up to exactly logDays old and deletes it 1 ms later, except while it names an identity under legal hold', async () => {
    const t0 = Math.floor(Date.now() / DAY) * DAY + 40 * DAY + 10 * 3600_000 + 20 * 60_000 + 30_456;
    await clock.with(new ManualClock(new Date(t0)), async (manual) => {
      const resource = await stack.createResource('logs-2d', 'Europe', { retention: { logDays: 2 } });
      const held = await createIdentity(resource); // CreateIdentity [held] at t0
      const free = await createIdentity(resource); // CreateIdentity [free] at t0
      // UploadRecording [held, free] at t0: names the held identity and someone else.
      const upload = await uploadRecording(stack, resource, {
        metadata: sampleMetadata(resource.id, { participants: [{ communicationUser: { id: held } }, { communicationUser: { id: free } }] }),
        date: manual.now(),
      });
      expect(upload.status, upload.text).toBe(201);
      manual.set(new Date(t0 + 1));
      const issued = await signed(resource, 'POST', `/identities/${encodeURIComponent(free)}/:issueAccessToken?${IDENTITY_API}`, { scopes: ['chat'] });
      expect(issued.status, issued.text).toBe(200); // IssueAccessToken [free] at t0 + 1 ms

      const hold = await stack.management('POST', `/api/management/resources/${resource.name}/legalHolds`, { target: { kind: 'identity', identityId: held }, reason: 'Case 7' });
      expect(hold.status, hold.text).toBe(201);

      const key = (r: LogRecord) => `${r.operation} ${r.time} ${[...r.subjects].sort().join(',')}`;
      const heldCreate = `CreateIdentity ${new Date(t0).toISOString()} ${held}`;
      const freeCreate = `CreateIdentity ${new Date(t0).toISOString()} ${free}`;
      const heldUpload = `UploadRecording ${new Date(t0).toISOString()} ${[held, free].sort().join(',')}`;
      const freeIssue = `IssueAccessToken ${new Date(t0 + 1).toISOString()} ${free}`;
      const stored = async () => (await logRecords('europe', resource.id)).map(key).sort();
      expect(await stored()).toEqual([heldCreate, freeCreate, heldUpload, freeIssue].sort());

      const at = async (instant: number, expected: string[]) => {
        manual.set(new Date(instant));
        await runRetention();
        expect(await stored(), `at t0 + ${instant - t0} ms`).toEqual([...expected].sort());
      };
      // 1 ms younger than logDays, and exactly logDays old: kept.
      await at(t0 + 2 * DAY - 1, [heldCreate, freeCreate, heldUpload, freeIssue]);
      await at(t0 + 2 * DAY, [heldCreate, freeCreate, heldUpload, freeIssue]);
      // 1 ms older than logDays: the t0 record goes, the t0 + 1 ms one (exactly logDays old) stays; held ones stay.
      await at(t0 + 2 * DAY + 1, [heldCreate, heldUpload, freeIssue]);
      await at(t0 + 2 * DAY + 2, [heldCreate, heldUpload]);
      // Held far past logDays.
      await at(t0 + 90 * DAY, [heldCreate, heldUpload]);

      const released = await stack.management('POST', `/api/management/resources/${resource.name}/legalHolds/${hold.body.id}/release`, { reason: 'Case closed' });
      expect(released.status, released.text).toBe(200);
      // The next run after the release deletes them.
      await at(t0 + 90 * DAY + 1, []);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('privacy request retention', () => {
  it('answers a finished request and its result until 1 ms before completion + 7 days; from then on 404, and the purge deletes request and blob', async () => {
    const t0 = Math.floor(Date.now() / DAY) * DAY + 100 * DAY + 15 * 3600_000 + 7;
    await clock.with(new ManualClock(new Date(t0)), async (manual) => {
      const resource = await stack.createResource('dsr-7d', 'Europe');
      const privacy = new PrivacyClient(() => stack, resource, clock);
      const [kept, erased] = [await createIdentity(resource), await createIdentity(resource)];
      const exported = await privacy.run('export', { identityIds: [kept] });
      const deleted = await privacy.run('delete', { identityIds: [erased] });
      const completedAt = new Date(t0).toISOString();
      const expiresAt = new Date(t0 + 7 * DAY).toISOString();
      for (const view of [exported, deleted]) expect(view).toMatchObject({ status: 'succeeded', completedDateTime: completedAt });
      expect(exported.result.expiresDateTime).toBe(expiresAt);
      const withResult = [exported];
      const blobName = (id: string) => `${resource.id}/${id}.json`;
      const exports = blobAccount().getContainerClient('acs-europe-exports');
      for (const view of withResult) {
        const tags = (await exports.getBlobClient(blobName(view.id)).getTags()).tags;
        expect(tags.expiresAt).toBe(expiresAt);
      }
      const requestItem = async (id: string) => (await geoContainer('europe', 'privacyRequests').item(id, resource.id).read()).resource as Record<string, unknown> | undefined;
      const receiptPath = `/privacy/receipts/${deleted.result.receiptId}`;

      // 1 ms before: everything answers, and a purge run keeps it all.
      manual.set(new Date(t0 + 7 * DAY - 1));
      const answersAll = async () => {
        for (const view of [exported, deleted]) expect((await privacy.status(view.id)).status).toBe(200);
        for (const view of withResult) {
          const result = await privacy.call('GET', `/privacy/requests/${view.id}/result`);
          expect(result.status).toBe(200);
          expect(result.body.requestId).toBe(view.id);
        }
        const listed = await privacy.call('GET', '/privacy/requests?maxPageSize=100');
        expect(listed.body.value.map((r: { id: string }) => r.id).sort()).toEqual([exported.id, deleted.id].sort());
      };
      await answersAll();
      await runRetention();
      await answersAll();
      for (const view of [exported, deleted]) expect(await requestItem(view.id)).toMatchObject({ status: 'succeeded', expiresAt });
      for (const view of withResult) expect(await exports.getBlobClient(blobName(view.id)).exists()).toBe(true);

      // Exactly 7 days after completion: gone, before any purge has run.
      manual.set(new Date(t0 + 7 * DAY));
      const answersNone = async () => {
        for (const view of [exported, deleted]) expect((await privacy.status(view.id)).status).toBe(404);
        for (const view of withResult) expect((await privacy.call('GET', `/privacy/requests/${view.id}/result`)).status).toBe(404);
        const listed = await privacy.call('GET', '/privacy/requests?maxPageSize=100');
        expect(listed.status).toBe(200);
        expect(listed.body.value).toEqual([]);
      };
      await answersNone();
      // The purge run at that instant deletes the requests and their result blobs from the stores.
      await runRetention();
      await answersNone();
      for (const view of [exported, deleted]) expect(await requestItem(view.id)).toBeUndefined();
      for (const view of withResult) expect(await exports.getBlobClient(blobName(view.id)).exists()).toBe(false);
      const left = [];
      for await (const blob of exports.listBlobsFlat({ prefix: `${resource.id}/` })) left.push(blob.name);
      expect(left).toEqual([]);
      // The erasure receipt stays (until the resource is deleted).
      const receipt = await privacy.call('GET', receiptPath);
      expect(receipt.status).toBe(200);
      expect(receipt.body.requestId).toBe(deleted.id);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('erasure receipts', () => {
  it('hash the same person differently in two resources, and after the erasure nothing in any store names the subjects in clear', async () => {
    const phone = '+33612345678';
    const email = 'Pat.Doe@Example.org';
    const hashKey = stack.env.TELEMETRY_HASH_KEY!;
    const people: { resource: ResourceView; person: ChatUser; colleague: ChatUser; privacy: PrivacyClient; full: boolean }[] = [];
    // The person in resource A: two threads (one they created, one they were removed from), messages,
    // read receipts, a recording naming all three identifiers, and an earlier export whose bundle
    // names them in clear. In resource B, less of the same (B is there for the hashes).
    for (const [name, full] of [['erase-fr-a', true], ['erase-fr-b', false]] as const) {
      const resource = await stack.createResource(name, 'France');
      const [person, colleague] = [await createChatUser(stack, resource), await createChatUser(stack, resource)];
      const { chatThread } = await person.chat.createChatThread({ topic: 'project' }, { participants: [{ id: userRef(colleague) }] });
      const thread = chatThread!.id;
      await person.thread(thread).sendMessage({ content: 'from the person' });
      const colleagues = await colleague.thread(thread).sendMessage({ content: 'from the colleague' });
      await person.thread(thread).sendReadReceipt({ chatMessageId: colleagues.id });
      if (full) {
        await colleague.thread(thread).sendReadReceipt({ chatMessageId: colleagues.id });
        const { chatThread: second } = await colleague.chat.createChatThread({ topic: 'second' }, { participants: [{ id: userRef(person) }] });
        await person.thread(second!.id).sendMessage({ content: 'in the second thread' });
        await colleague.thread(second!.id).removeParticipant(userRef(person));
      }
      const upload = await uploadRecording(stack, resource, {
        metadata: sampleMetadata(resource.id, {
          participants: [{ communicationUser: { id: person.id } }, { phoneNumber: { value: phone } }, { rawId: email.toLowerCase() }, { communicationUser: { id: colleague.id } }],
        }),
      });
      expect(upload.status, upload.text).toBe(201);
      const privacy = new PrivacyClient(() => stack, resource);
      if (full) {
        const exported = await privacy.run('export', { identityIds: [person.id], phoneNumbers: [phone], emails: [email] });
        expect(exported.status).toBe('succeeded');
        expect(JSON.stringify(await privacy.result(exported.id))).toContain(person.id);
      }
      people.push({ resource, person, colleague, privacy, full });
    }

    const receipts: Record<string, any>[] = [];
    for (const { resource, person, privacy, full } of people) {
      const view = await privacy.run('delete', { identityIds: [person.id], phoneNumbers: [phone], emails: [email] });
      expect(view.status, JSON.stringify(view)).toBe('succeeded');
      expect(view.counts.recording).toEqual({ found: 1, held: 0, deleted: 1 });
      if (full) expect(view.counts.privacyResult).toEqual({ found: 1, held: 0, deleted: 1 });
      const receipt = await privacy.call('GET', `/privacy/receipts/${view.result.receiptId}`);
      expect(receipt.status).toBe(200);
      // The subjects as HMACs over the resource id and the subject key, in request order, and nothing else about them.
      const expected = [person.id, `4:${phone}`, email.toLowerCase()].map((k) => subjectHash(hashKey, resource.id, k));
      expect(receipt.body.subjects).toEqual(expected);
      expect(view.subjects).toEqual({ count: 3, hashes: expected });
      expect(receipt.body.held).toEqual({});
      expect(receipt.body.holdIds).toEqual([]);
      // A receipt is found by any of the person's identifiers, in any case.
      for (const subject of [phone, email.toUpperCase(), person.id]) {
        const found = await privacy.call('GET', `/privacy/receipts?subject=${encodeURIComponent(subject)}`);
        expect(found.body.value.map((r: { id: string }) => r.id), subject).toEqual([receipt.body.id]);
      }
      receipts.push(receipt.body);
    }
    const [a, b] = receipts as [{ subjects: string[] }, { subjects: string[] }];
    // Same phone number and e-mail address, different resource: different hashes, so receipts cannot be linked.
    expect(a.subjects[1]).not.toBe(b.subjects[1]);
    expect(a.subjects[2]).not.toBe(b.subjects[2]);
    expect(a.subjects.filter((h) => b.subjects.includes(h))).toEqual([]);

    // Nothing anywhere names the subjects in clear: every item of every Cosmos database, every blob
    // (name, metadata, index tags and content) of every container.
    const needles = [
      ...people.flatMap(({ person }) => [person.id, person.id.slice(person.id.indexOf('_') + 1)]),
      phone,
      phone.slice(1),
      email.toLowerCase(),
    ].map((n) => n.toLowerCase());
    const findings: string[] = [];
    const inspect = (where: string, text: string) => {
      const lower = text.toLowerCase();
      for (const needle of needles) if (lower.includes(needle)) findings.push(`${where} names ${needle}`);
    };
    const client = cosmos();
    const { resources: databases } = await client.databases.readAll().fetchAll();
    let items = 0;
    for (const db of databases) {
      const { resources: containers } = await client.database(db.id).containers.readAll().fetchAll();
      for (const c of containers) {
        const { resources } = await client.database(db.id).container(c.id).items.readAll().fetchAll();
        for (const item of resources) inspect(`cosmos ${db.id}/${c.id}/${String(item.id)}`, JSON.stringify(item));
        items += resources.length;
      }
    }
    for await (const container of blobAccount().listContainers()) {
      const client = blobAccount().getContainerClient(container.name);
      for await (const blob of client.listBlobsFlat({ includeMetadata: true, includeTags: true })) {
        const content = await client.getBlobClient(blob.name).downloadToBuffer();
        inspect(`blob ${container.name}/${blob.name}`, `${blob.name} ${JSON.stringify(blob.metadata ?? {})} ${JSON.stringify(blob.tags ?? {})} ${content.toString('latin1')}`);
      }
    }
    expect(findings).toEqual([]);
    // The scan saw the colleagues' data that stays (so it did look where the person's data was).
    expect(items).toBeGreaterThan(50);
    const france = await geoContainer('france', 'chatThreads').items.query('SELECT * FROM c').fetchAll();
    for (const { colleague } of people) expect(JSON.stringify(france.resources)).toContain(colleague.id);
  });
  /** E-mail addresses are matched in any case: a recording keeps its participants' search keys in lower case. */
  it('erase a recording that names the e-mail address in another case', async () => {
    const resource = await stack.createResource('erase-mail-case', 'France');
    const upload = await uploadRecording(stack, resource, { metadata: sampleMetadata(resource.id, { participants: [{ rawId: 'Kim.Doe@Example.org' }] }) });
    expect(upload.status, upload.text).toBe(201);
    const view = await new PrivacyClient(() => stack, resource).run('delete', { emails: ['Kim.Doe@Example.org'] });
    expect(view.status).toBe('succeeded');
    const { resources } = await geoContainer('france', 'recordings')
      .items.query({ query: 'SELECT * FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] })
      .fetchAll();
    expect(resources).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('operation logs of failed operations', () => {
  let resource: ResourceView;
  let member: ChatUser, outsider: ChatUser;
  let threadId: string;
  let otherToken: string;
  const chat = (token: string, method: string, path: string, body?: string, resourceName = resource.name) =>
    fetch(`${stack.httpUrl}${path}?resource=${resourceName}&${CHAT_API}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body,
    }).then(toTestResponse);
  const messages = () => `/chat/threads/${encodeURIComponent(threadId)}/messages`;

  beforeAll(async () => {
    resource = await stack.createResource('oplog-failures', 'Europe');
    [member, outsider] = [await createChatUser(stack, resource), await createChatUser(stack, resource)];
    threadId = (await member.chat.createChatThread({ topic: 'members only' })).chatThread!.id;
    otherToken = (await createChatUser(stack, await stack.createResource('oplog-other', 'Europe'))).token;
  });

  /** Runs a request and answers the records it added to the resource's log. */
  async function added(request: () => Promise<TestResponse>, status: number): Promise<{ response: TestResponse; records: LogRecord[] }> {
    const before = new Set((await logRecords('europe', resource.id)).map((r) => r.id));
    const response = await request();
    expect(response.status, response.text).toBe(status);
    const records = (await logRecords('europe', resource.id)).filter((r) => !before.has(r.id));
    return { response, records };
  }

  it('writes exactly one record per refused request of an authenticated caller, with status, operation and subjects', async () => {
    const phoneRaw = '4:+14255550100';
    const cases: { name: string; request: () => Promise<TestResponse>; status: number; operation: string; method: string; subjects: string[] }[] = [
      { name: 'send by a non-participant', request: () => chat(outsider.token, 'POST', messages(), JSON.stringify({ content: 'let me in' })), status: 403, operation: 'SendChatMessage', method: 'POST', subjects: [outsider.id] },
      { name: 'send without content', request: () => chat(member.token, 'POST', messages(), JSON.stringify({ metadata: { a: 'b' } })), status: 400, operation: 'SendChatMessage', method: 'POST', subjects: [member.id] },
      { name: 'send of a body that is not JSON', request: () => chat(member.token, 'POST', messages(), '{"content":'), status: 400, operation: 'SendChatMessage', method: 'POST', subjects: [member.id] },
      {
        name: 'add of a phone number',
        request: () => chat(member.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/participants/:add`, JSON.stringify({ participants: [{ communicationIdentifier: { rawId: phoneRaw, phoneNumber: { value: '+14255550100' } } }] })),
        status: 400,
        operation: 'AddChatParticipants',
        method: 'POST',
        subjects: [member.id, phoneRaw],
      },
      { name: 'read of a thread that does not exist', request: () => chat(member.token, 'GET', '/chat/threads/19%3Anope%40thread.v2'), status: 404, operation: 'GetChatThreadProperties', method: 'GET', subjects: [member.id] },
      { name: 'identity created with an unknown scope', request: () => signed(resource, 'POST', `/identities?${IDENTITY_API}`, { createTokenWithScopes: ['bogus'] }), status: 400, operation: 'CreateIdentity', method: 'POST', subjects: [] },
      {
        name: 'token for an identity that does not exist',
        request: () => signed(resource, 'POST', `/identities/${encodeURIComponent(`8:acs:${resource.id}_00000000-0000-0000-0000-00000000dead`)}/:issueAccessToken?${IDENTITY_API}`, { scopes: ['chat'] }),
        status: 404,
        operation: 'IssueAccessToken',
        method: 'POST',
        subjects: [`8:acs:${resource.id}_00000000-0000-0000-0000-00000000dead`],
      },
    ];
    for (const c of cases) {
      const { response, records } = await added(c.request, c.status);
      expect(records.map((r) => ({ operation: r.operation, method: r.method, status: r.status, subjects: [...r.subjects].sort(), resourceDay: r.resourceDay })), c.name).toEqual([
        { operation: c.operation, method: c.method, status: c.status, subjects: [...c.subjects].sort(), resourceDay: `${resource.id}|${records[0]?.time.slice(0, 10)}` },
      ]);
      // The record is the one of this request: its correlation id is the one the caller was answered with.
      expect(records[0]!.correlationId, c.name).toBe(response.headers.get('x-ms-correlation-id'));
    }
  });

  it('writes no record anywhere for a request whose resource is unknown, and never an id an unauthenticated caller sent', async () => {
    const planted = `8:acs:${resource.id}_00000000-0000-0000-0000-0000000bad1d`;
    const before = await allLogRecordCount();
    const unknown = { ...resource, endpoint: resource.endpoint.replace(`resource=${resource.name}`, 'resource=no-such-resource') };
    for (const response of [
      await signed(unknown, 'POST', `/identities?${IDENTITY_API}`, {}),
      await chat(member.token, 'POST', messages(), JSON.stringify({ content: planted }), 'no-such-resource'),
    ]) {
      expect(response.status).toBe(401);
    }
    const missing = await fetch(`${stack.httpUrl}/chat/threads?${CHAT_API}`, { headers: { authorization: `Bearer ${member.token}` } });
    expect(missing.status).toBe(400);
    expect(await allLogRecordCount()).toBe(before);

    // Bad credentials on a known resource: whatever is logged carries no id the caller sent.
    const forged = await chat('not-a-token', 'POST', `/chat/threads/${encodeURIComponent(threadId)}/participants/:add`, JSON.stringify({ participants: [{ communicationIdentifier: { rawId: planted } }] }));
    expect(forged.status).toBe(401);
    const badKey = await signed(resource, 'POST', `/identities/${encodeURIComponent(planted)}/:issueAccessToken?${IDENTITY_API}`, { scopes: ['chat'] }, Buffer.alloc(32, 7).toString('base64'));
    expect(badKey.status).toBe(401);
    expect(JSON.stringify(await logRecords('europe', resource.id))).not.toContain(planted);
  });

  /** Only an authenticated caller writes into a resource's logs: a 401 on a known resource writes nothing. */
  it('writes no record for a request that fails authentication on a known resource (bad token, bad signature)', async () => {
    const logged: Record<string, unknown[]> = {};
    for (const [name, request] of [
      ['bad token', () => chat('not-a-token', 'POST', messages(), JSON.stringify({ content: 'x' }))],
      ['token of another resource', () => chat(otherToken, 'POST', messages(), JSON.stringify({ content: 'x' }))],
      ['bad signature', () => signed(resource, 'POST', `/identities?${IDENTITY_API}`, {}, Buffer.alloc(32, 7).toString('base64'))],
    ] as const) {
      const { records } = await added(request, 401);
      logged[name] = records.map((r) => ({ operation: r.operation, status: r.status, subjects: r.subjects }));
    }
    expect(logged).toEqual({ 'bad token': [], 'token of another resource': [], 'bad signature': [] });
  });
});

// ---------------------------------------------------------------------------------------------

describe('a privacy request that keeps failing', () => {
  it('is marked failed on its 10th failed run in a row, not on its 9th', async () => {
    const resource = await stack.createResource('dsr-failing', 'Japan');
    const privacy = new PrivacyClient(() => stack, resource);
    const subject = await createIdentity(resource);
    const exports = blobAccount().getContainerClient('acs-japan-exports');
    await exports.createIfNotExists();

    /**
     * The runner writes the export bundle block by block into `{resourceId}/{requestId}.json`. A blob
     * there under an infinite lease refuses every block (412 LeaseIdMissing), so every run fails
     * at its first step, on the real stores, until the lease is broken.
     */
    const block = async (id: string) => {
      const blob = exports.getBlockBlobClient(`${resource.id}/${id}.json`);
      await blob.upload('', 0);
      await blob.getBlobLeaseClient().acquireLease(-1);
      return async () => {
        await blob.getBlobLeaseClient().breakLease(0);
        await blob.delete();
      };
    };
    const stored = async (id: string) => (await geoContainer('japan', 'privacyRequests').item(id, resource.id).read()).resource as Record<string, any>;

    const { id } = await privacy.submit('export', { identityIds: [subject] });
    const unblock = await block(id);
    try {
      for (let run = 1; run <= 9; run += 1) {
        await runTimer('privacyWorker');
        const item = await stored(id);
        expect({ status: item.status, failures: item.failures, lease: item.lease }, `after run ${run}`).toEqual({ status: 'running', failures: run, lease: null });
        expect(item.subjects).toEqual({ identityIds: [subject], phoneNumbers: [], emails: [] });
        const view = (await privacy.status(id)).body;
        expect(view.status).toBe('running');
        expect(view.progress.failedAttempts).toBe(run);
      }
      await runTimer('privacyWorker');
      const item = await stored(id);
      expect(item.status).toBe('failed');
      expect(item.error).toMatchObject({ code: 'InternalError' });
      expect(item.error.message).toBe('The request failed 10 times in a row.');
      expect(item.failures).toBe(10);
      expect((await privacy.status(id)).body.progress.failedAttempts).toBe(10);
      // Ended like any finished request: no subjects in clear, kept 7 days.
      expect(item.subjects).toBeNull();
      expect(item.expiresAt).toBe(new Date(Date.parse(item.completedAt) + 7 * DAY).toISOString());
      const view = (await privacy.status(id)).body;
      expect(view).toMatchObject({ status: 'failed', error: { code: 'InternalError' } });
      expect(view.result).toBeUndefined();
      // A failed request is not worked on again.
      await runTimer('privacyWorker');
      expect((await stored(id)).updatedAt).toBe(item.updatedAt);
    } finally {
      await unblock();
    }
  });
});
