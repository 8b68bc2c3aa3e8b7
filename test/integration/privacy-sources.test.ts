import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceError } from '../../shared/errors/service-error.js';
import type { OutboxEntry } from '../../shared/events/outbox.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { deletedIdentityId, participantItemId, receiptItemId, threadItemId } from '../../shared/chat/chat-records.js';
import { ChatStore } from '../../shared/chat/chat-store.js';
import { senderItemId, type SenderUsernameRecord } from '../../shared/email/email-domain-records.js';
import type { EmailOperationRecord } from '../../shared/email/email-operation.js';
import { suppressionId, type SuppressionRecord } from '../../shared/email/email-suppressions.js';
import { operationLogRecord, type OperationLogRecord } from '../../shared/oplog/operation-log.js';
import type { NumberRecord } from '../../shared/phone-numbers/number-records.js';
import type { SmsRecord } from '../../shared/sms/sms-records.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import { normalizeSubjects, subjectHash, type PrivacyAction } from '../../shared/privacy/privacy-subjects.js';
import { EXPORT_SECTIONS, PHASES } from '../../shared/privacy/request-phases.js';
import type { PrivacyRunnerDeps } from '../../shared/privacy/request-runner.js';
import { identitySource, tokenSource } from '../../shared/privacy/sources/identity-sources.js';
import { operationLogSource } from '../../shared/privacy/sources/log-source.js';
import { messageSource, participationSource, readReceiptSource } from '../../shared/privacy/sources/chat-sources.js';
import { emailMessageSource, emailSenderSource, emailSuppressionSource } from '../../shared/privacy/sources/email-sources.js';
import { outboxSource } from '../../shared/privacy/sources/outbox-source.js';
import { phoneNumberSource, smsSource } from '../../shared/privacy/sources/phone-sources.js';
import { recordingSource } from '../../shared/privacy/sources/recording-source.js';
import { privacyResultSource } from '../../shared/privacy/sources/result-source.js';
import type { PrivacyContext } from '../../shared/privacy/sources/subject-source.js';
import { readRecording, recordingContentBlob } from '../../shared/recordings/recording-store.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import type { GeoStore } from '../../shared/stores/geo-store.js';
import { all, createChatUser, userRef } from '../support/chat-users.js';
import { PrivacyClient } from '../support/privacy.js';
import { sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Every privacy source called one call at a time on the stack's stores, the way the request runner
 * calls them: what `page` finds for the subjects (exactly which items, their facts, export view,
 * holds, erase refs and cursor; nothing of another resource or person) and what `erase` leaves in the
 * store. Outbox entries, operation log records, phone-number, SMS and e-mail records are written as the
 * service writes them, with ids no real identity has, so each test knows every item there is;
 * identities, chat threads, recordings and earlier requests' results are made through the service.
 * The stack's timers are off: nothing else runs meanwhile. (One file, one stack: a stack start is the
 * larger part of a small file's CPU.)
 */
const NEVER = '0 0 0 1 1 *';
let stack: TestStack;
let view: ResourceView;
let resource: Resource;
let other: Resource;
const europe = (): GeoStore => services().stores.forGeography(geographyByKey('europe'));

beforeAll(async () => {
  stack = await startTestStack({ env: { PRIVACY_WORKER_SCHEDULE: NEVER, RETENTION_PURGE_SCHEDULE: NEVER, RECORDING_PURGE_SCHEDULE: NEVER, OUTBOX_REPUBLISH_SCHEDULE: NEVER } });
  view = await stack.createResource('privacy-sources', 'Europe');
  await stack.createResource('privacy-sources-other', 'Europe');
  resource = (await services().resources.get('privacy-sources'))!;
  other = (await services().resources.get('privacy-sources-other'))!;
});
afterAll(async () => stack?.stop());

/** An identity id of `of` that no identity has (outbox and log tests write their own items naming it). */
const made = (name: string, of: Resource = resource) => `8:acs:${of.id}_${name}`;
const NO_HOLDS = () => ({ threads: new Map<string, string[]>(), identities: new Map<string, string[]>() });

/**
 * The context the runner builds for a request about these subjects, with `overrides` (holds, page
 * size) on top. The request is not submitted: a stored one would be run (and would erase) when the
 * results test runs the privacy worker. Its subject hashes are the service's own.
 */
async function contextFor(action: PrivacyAction, identityIds: string[], overrides: Partial<PrivacyContext> = {}, more: { phoneNumbers?: string[]; emails?: string[] } = {}): Promise<PrivacyContext> {
  const subjects = { identityIds, phoneNumbers: more.phoneNumbers ?? [], emails: more.emails ?? [] };
  const hashKey = services().settings.telemetryHashKey;
  const request = { id: randomBytes(16).toString('hex'), action, subjects, subjectHashes: normalizeSubjects(subjects).keys.map((key) => subjectHash(hashKey, resource.id, key)) };
  const deps = (services().privacy as unknown as { deps: PrivacyRunnerDeps }).deps;
  return { ...(await deps.context(europe(), resource, request as PrivacyRequestRecord)), holds: NO_HOLDS(), ...overrides };
}

/** Blobs (snapshots included) of a geography container whose names contain `part`. */
async function blobsNamed(container: 'recordings' | 'exports', part: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of (await europe().blobContainer(container)).listBlobsFlat({ includeSnapshots: true })) if (blob.name.includes(part)) names.push(blob.name);
  return names;
}

describe('the phases', () => {
  it('are walked in the documented order, under the names the status view and the inventory sections show', () => {
    expect(PHASES.inventory.map((s) => s.name)).toEqual([
      'identities', 'chatParticipation', 'chatMessages', 'chatReadReceipts', 'recordings', 'operationLogs', 'phoneNumberRecords', 'smsRecords',
      'emailSuppressions', 'emailSenders', 'emailMessages', 'outboxEvents', 'privacyResults',
    ]);
    expect(EXPORT_SECTIONS).toEqual([
      'identities', 'chatParticipation', 'chatMessages', 'chatReadReceipts', 'recordings', 'operationLogs', 'phoneNumbers', 'sms', 'emailSuppressions', 'emailSenders', 'emailMessages',
    ]);
    expect(PHASES.delete.map((s) => s.name)).toEqual([
      'accessTokens', 'chatMessages', 'chatReadReceipts', 'chatParticipation', 'recordings', 'emailMessages', 'emailSuppressions', 'emailSenders',
      'identities', 'operationLogs', 'phoneNumberRecords', 'smsRecords', 'privacyResults', 'outboxEvents',
    ]);
  });
});

describe('outbox entries', () => {
  const entry = (id: string, status: OutboxEntry['status'], subjects: string[], of: Resource = resource, events = 2): OutboxEntry => ({
    id,
    resourceId: of.id,
    status,
    createdAt: '2026-12-03T10:00:00.000Z',
    ops: [],
    events: Array.from({ length: events }, (_, i) => ({ id: `${id}-e${i}` }) as unknown as OutboxEntry['events'][number]),
    subjects,
    attempts: 0,
    nextAttemptAt: '2026-12-03T10:00:00.000Z',
  });

  it('lists every entry naming a subject for an inventory; a delete takes only published ones and counts the rest as waiting; erase deletes just those', async () => {
    const alice = made('outbox-alice');
    const bob = made('outbox-bob');
    const outbox = await europe().container('outbox');
    const entries = [
      entry('ob-1-published', 'published', [alice, bob], resource, 3),
      entry('ob-2-applied', 'applied', [alice]),
      entry('ob-3-pending', 'pending', [alice], resource, 1),
      entry('ob-4-bob', 'published', [bob]),
      entry('ob-5-other', 'published', [alice], other),
    ];
    for (const e of entries) await outbox.items.create(e);

    // Pages of two: the cursor the source answers is where the next page starts.
    const listing = await contextFor('inventory', [alice], { pageSize: 2 });
    const first = await outboxSource.page(listing, null);
    expect(first).toStrictEqual({
      items: [
        { kind: 'outboxEntry', id: 'ob-1-published', facts: { status: 'published', events: 3 }, ref: 'ob-1-published' },
        { kind: 'outboxEntry', id: 'ob-2-applied', facts: { status: 'applied', events: 2 }, ref: 'ob-2-applied' },
      ],
      next: { k: 0, after: 'ob-2-applied' },
      waiting: 0,
    });
    expect(await outboxSource.page(listing, first.next)).toStrictEqual({
      items: [{ kind: 'outboxEntry', id: 'ob-3-pending', facts: { status: 'pending', events: 1 }, ref: 'ob-3-pending' }],
      next: { k: 1 },
      waiting: 0,
    });
    expect(await outboxSource.page(listing, { k: 1 })).toStrictEqual({ items: [], next: null, waiting: 0 });
    // About alice and bob: an entry naming both is found once, under the first of them.
    const both = await contextFor('inventory', [alice, bob]);
    expect((await outboxSource.page(both, null)).items.map((i) => i.id)).toEqual(['ob-1-published', 'ob-2-applied', 'ob-3-pending']);
    expect((await outboxSource.page(both, { k: 1 })).items.map((i) => i.id)).toEqual(['ob-4-bob']);

    const ctx = await contextFor('delete', [alice]);
    const deletion = await outboxSource.page(ctx, null);
    expect(deletion).toStrictEqual({
      items: [{ kind: 'outboxEntry', id: 'ob-1-published', facts: { status: 'published', events: 3 }, ref: 'ob-1-published' }],
      next: { k: 1 },
      waiting: 2,
    });
    await outboxSource.erase(ctx, deletion.items.map((i) => i.ref));
    // Safe to run again on the same refs.
    await outboxSource.erase(ctx, deletion.items.map((i) => i.ref));
    const left = async (of: Resource) => (await outbox.items.query<{ id: string }>({ query: "SELECT c.id FROM c WHERE STARTSWITH(c.id, 'ob-') ORDER BY c.id" }, { partitionKey: of.id }).fetchAll()).resources.map((r) => r.id);
    expect(await left(resource)).toEqual(['ob-2-applied', 'ob-3-pending', 'ob-4-bob']);
    expect(await left(other)).toEqual(['ob-5-other']);
  });

  it('finds the entries kept in chat threads\' partitions after the outbox\'s (a send\'s, never published there): listed, and a delete waits for them', async () => {
    const carol = made('thread-entry-carol');
    const dan = made('thread-entry-dan');
    const threads = await europe().container('chatThreads');
    const [t1, t2] = ['19:0000000000000000000000000000a001@thread.v2', '19:0000000000000000000000000000a002@thread.v2'];
    const inThread = (id: string, threadId: string, subjects: string[], of: Resource = resource) => ({ ...entry(id, 'applied', subjects, of), threadId, kind: 'outboxEntry' });
    for (const e of [
      inThread('te-1', t1, [carol]),
      inThread('te-2', t2, [carol, dan]),
      inThread('te-3', t1, [dan]),
      inThread('te-4', t2, [carol], other),
      // Not an entry, though it names carol.
      { id: 'te-5', threadId: t1, resourceId: resource.id, kind: 'message', subjects: [carol], events: [] },
    ]) await threads.items.create(e);
    await (await europe().container('outbox')).items.create(entry('ob-6-carol', 'published', [carol]));

    // The outbox's entry first; its walk done, the threads' next (cursor t: 1), in id order across threads.
    const listing = await contextFor('inventory', [carol], { pageSize: 1 });
    const first = await outboxSource.page(listing, null);
    expect(first).toStrictEqual({ items: [{ kind: 'outboxEntry', id: 'ob-6-carol', facts: { status: 'published', events: 2 }, ref: 'ob-6-carol' }], next: { k: 0, after: 'ob-6-carol' }, waiting: 0 });
    const second = await outboxSource.page(listing, first.next);
    expect(second).toStrictEqual({ items: [{ kind: 'outboxEntry', id: 'te-1', facts: { status: 'applied', events: 2 }, ref: 'te-1' }], next: { t: 1, k: 0, after: 'te-1' }, waiting: 0 });
    const third = await outboxSource.page(listing, second.next);
    expect(third).toStrictEqual({ items: [{ kind: 'outboxEntry', id: 'te-2', facts: { status: 'applied', events: 2 }, ref: 'te-2' }], next: { t: 1, k: 0, after: 'te-2' }, waiting: 0 });
    expect(await outboxSource.page(listing, third.next)).toStrictEqual({ items: [], next: null, waiting: 0 });
    // Both people: te-2 once, under carol.
    const both = await contextFor('inventory', [carol, dan]);
    expect((await outboxSource.page(both, { t: 1, k: 0 })).items.map((i) => i.id)).toEqual(['te-1', 'te-2']);
    expect((await outboxSource.page(both, { t: 1, k: 1 })).items.map((i) => i.id)).toEqual(['te-3']);

    // A delete: the outbox's published entry is erased, the threads' entries wait (their events are not out yet).
    const ctx = await contextFor('delete', [carol]);
    const deletion = await outboxSource.page(ctx, { t: 1, k: 0 });
    expect(deletion).toStrictEqual({ items: [], next: { t: 1, k: 1 }, waiting: 2 });
    const ids = async (threadId: string) => (await threads.items.query<string>("SELECT VALUE c.id FROM c WHERE STARTSWITH(c.id, 'te-') ORDER BY c.id", { partitionKey: threadId }).fetchAll()).resources;
    expect([await ids(t1), await ids(t2)]).toEqual([['te-1', 'te-3', 'te-5'], ['te-2', 'te-4']]);
  });
});

describe('operation log records', () => {
  it('lists the records naming a subject with their export view (only the subjects asked about), the holds of anyone in them, and erases them', async () => {
    const alice = made('log-alice');
    const bob = made('log-bob');
    const carol = made('log-carol');
    const geo = europe();
    const record = (time: string, subjects: string[], of: Resource = resource): OperationLogRecord =>
      operationLogRecord({ resourceId: of.id, time, operation: 'chat.sendMessage', method: 'POST', status: 201, durationMs: 12, correlationId: `c-${time}`, subjects });
    const aliceOnly = record('2026-12-01T10:00:00.000Z', [alice]);
    const withBob = record('2026-12-02T11:00:00.000Z', [bob, alice, carol]);
    const bobOnly = record('2026-12-02T12:00:00.000Z', [bob]);
    const otherResource = record('2026-12-02T13:00:00.000Z', [alice], other);
    for (const r of [aliceOnly, withBob, bobOnly, otherResource]) await services().oplogs.write(geo, r);

    const ctx = await contextFor('delete', [alice], { holds: { threads: new Map(), identities: new Map([[bob, ['hold-b']], [carol, ['hold-c', 'hold-b']]]) } });
    const page = await operationLogSource.page(ctx, null);
    const viewOf = (r: OperationLogRecord) => ({ time: r.time, operation: 'chat.sendMessage', status: 201, durationMs: 12, correlationId: r.correlationId, subjects: [alice] });
    expect(page).toStrictEqual({
      items: [
        { kind: 'operationLog', id: aliceOnly.id, heldBy: undefined, view: viewOf(aliceOnly), ref: { id: aliceOnly.id, p: aliceOnly.resourceDay } },
        { kind: 'operationLog', id: withBob.id, heldBy: ['hold-b', 'hold-c'], view: viewOf(withBob), ref: { id: withBob.id, p: withBob.resourceDay } },
      ],
      next: { k: 1 },
    });
    // Page by page: the next page starts after the last record of the one before.
    const single = { ...ctx, pageSize: 1 };
    const first = await operationLogSource.page(single, null);
    expect(first.items.map((i) => i.id)).toEqual([aliceOnly.id]);
    expect(first.next).toStrictEqual({ k: 0, after: aliceOnly.id });
    const second = await operationLogSource.page(single, first.next);
    expect(second.items.map((i) => i.id)).toEqual([withBob.id]);
    expect(second.next).toStrictEqual({ k: 0, after: withBob.id });
    expect(await operationLogSource.page(single, second.next)).toStrictEqual({ items: [], next: null });
    await operationLogSource.erase(ctx, page.items.map((i) => i.ref));
    const container = await geo.container('operationLogs');
    const exists = async (r: OperationLogRecord) => (await container.item(r.id, r.resourceDay).read()).resource !== undefined;
    expect([await exists(aliceOnly), await exists(withBob), await exists(bobOnly), await exists(otherResource)]).toEqual([false, false, true, true]);
  });
});

describe('identities and their tokens', () => {
  it('finds the subjects that are identities of this resource, with their token state and export view, and holds', async () => {
    const { identities } = services();
    const alice = (await identities.create(resource, {})).identity.id;
    const bob = (await identities.create(resource, {})).identity.id;
    await identities.revokeTokens(resource, bob);
    const foreign = (await identities.create(other, {})).identity.id;
    const stored = async (id: string, of: Resource = resource) => (await identities.isUsable(of, id) ? 'usable' : 'not usable');
    const ctx = await contextFor('delete', [alice, bob, made('never-made')], { holds: { threads: new Map(), identities: new Map([[bob, ['hold-b']]]) } });
    // Another resource's identity, in the same geography's container, is not this resource's subject even if named.
    const withForeign: PrivacyContext = { ...ctx, subjects: { ...ctx.subjects, identityIds: [...ctx.subjects.identityIds, foreign] } };
    const record = async (id: string) => (await (await europe().container('identities')).item(id, id).read<{ createdAt: string; tokensRevokedAt: string }>()).resource!;
    const bobRevokedAt = (await record(bob)).tokensRevokedAt;

    expect(await tokenSource.page(withForeign, null)).toStrictEqual({
      items: [
        { kind: 'accessTokens', id: alice, heldBy: undefined, facts: { tokenGeneration: 0, tokensRevokedAt: null }, ref: alice },
        { kind: 'accessTokens', id: bob, heldBy: ['hold-b'], facts: { tokenGeneration: 1, tokensRevokedAt: bobRevokedAt }, ref: bob },
      ],
      next: null,
    });
    expect(await identitySource.page(withForeign, null)).toStrictEqual({
      items: [
        {
          kind: 'identity',
          id: alice,
          heldBy: undefined,
          facts: { tokenGeneration: 0, tokensRevokedAt: null },
          view: { id: alice, createdAt: (await record(alice)).createdAt, tokenGeneration: 0, tokensRevokedAt: null },
          ref: alice,
        },
        {
          kind: 'identity',
          id: bob,
          heldBy: ['hold-b'],
          facts: { tokenGeneration: 1, tokensRevokedAt: bobRevokedAt },
          view: { id: bob, createdAt: (await record(bob)).createdAt, tokenGeneration: 1, tokensRevokedAt: bobRevokedAt },
          ref: bob,
        },
      ],
      next: null,
    });

    // Tokens first: the identities become unusable, one already gone is no failure; then the records go.
    await tokenSource.erase(ctx, [alice, made('gone-meanwhile')]);
    expect([await stored(alice), await stored(bob), await stored(foreign, other)]).toEqual(['not usable', 'usable', 'usable']);
    expect((await record(alice)) as unknown).toMatchObject({ tokenGeneration: 1, deletingSince: expect.any(String) });
    await identitySource.erase(ctx, [alice, made('gone-meanwhile')]);
    expect((await (await europe().container('identities')).item(alice, alice).read()).resource).toBeUndefined();
    expect(await stored(bob)).toBe('usable');
  });

  it('passes on any failure of making an identity unusable other than its being gone', async () => {
    const alice = (await services().identities.create(resource, {})).identity.id;
    const ctx = await contextFor('delete', [alice]);
    const refusing = {
      ...ctx,
      identities: { beginDeletion: () => Promise.reject(new ServiceError('Conflict', 'changed concurrently')) } as unknown as PrivacyContext['identities'],
    };
    await expect(tokenSource.erase(refusing, [alice])).rejects.toMatchObject({ code: 'Conflict' });
    const gone = { ...ctx, identities: { beginDeletion: () => Promise.reject(new ServiceError('NotFound', 'gone')) } as unknown as PrivacyContext['identities'] };
    await expect(tokenSource.erase(gone, [alice])).resolves.toBeUndefined();
  });
});

describe('recordings', () => {
  it("lists a subject's recordings with only the subject's participants in the export view, and erases the recording and its content", async () => {
    const { identities } = services();
    const alice = (await identities.create(resource, {})).identity.id;
    const bob = (await identities.create(resource, {})).identity.id;
    const upload = async (participants: string[]) => {
      const metadata = sampleMetadata(resource.id, { participants: participants.map((id) => (id.startsWith('+') ? { phoneNumber: { value: id } } : { communicationUser: { id } })) });
      const response = await uploadRecording(stack, view, { metadata });
      expect(response.status, response.text).toBe(201);
      return response.body.id as string;
    };
    const shared = await upload([alice, '+14255550123', bob]);
    const bobs = await upload([bob]);

    const ctx = await contextFor('delete', [alice], { holds: { threads: new Map(), identities: new Map([[bob, ['hold-b']]]) } });
    const page = await recordingSource.page(ctx, null);
    const record = (await readRecording(europe(), resource.id, shared))!;
    expect(page.next).toStrictEqual({ k: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.items[0]).toMatchObject({ kind: 'recording', id: shared, heldBy: ['hold-b'], facts: { expiresAt: record.expiresAt, contentLength: 1024 }, ref: shared });
    expect(page.items[0]!.view).toMatchObject({
      participants: [{ participantId: alice }],
      otherParticipants: 2,
      createdAt: record.createdAt,
      expiresAt: record.expiresAt,
    });

    // A snapshot of the content does not stop its erasure.
    await (await recordingContentBlob(europe(), resource.id, shared)).createSnapshot();
    await recordingSource.erase(ctx, [shared]);
    const events = stack.topic!.received().map((r) => r.event as { type: string; data?: { recordingId?: string; reason?: string } });
    const deleted = events.filter((e) => e.data?.recordingId === shared && e.type.endsWith('Deleted'));
    expect(deleted.map((e) => e.data?.reason)).toEqual(['erasureRequest']);
    // Safe to run again: the recording and its content are gone already.
    await recordingSource.erase(ctx, [shared]);
    expect(await readRecording(europe(), resource.id, shared)).toBeUndefined();
    expect(await (await recordingContentBlob(europe(), resource.id, shared)).exists()).toBe(false);
    expect(await blobsNamed('recordings', shared)).toEqual([]);
    expect(await readRecording(europe(), resource.id, bobs)).toBeDefined();
    expect(await (await recordingContentBlob(europe(), resource.id, bobs)).exists()).toBe(true);
  });
});

describe("earlier requests' results", () => {
  it("finds the downloadable results of earlier requests about the same people, not the request's own, and erases their documents", async () => {
    const alice = (await services().identities.create(resource, {})).identity.id;
    const bob = (await services().identities.create(resource, {})).identity.id;
    const client = new PrivacyClient(() => stack, view);
    const exported = await client.run('export', { identityIds: [alice] });
    const listed = await client.run('inventory', { identityIds: [alice, bob] });
    const bobs = await client.run('export', { identityIds: [bob] });
    expect([exported.status, listed.status, bobs.status]).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const requests = await europe().container('privacyRequests');
    const stored = async (id: string) => (await requests.item(id, resource.id).read<PrivacyRequestRecord>()).resource!;
    const blobs = await europe().blobContainer('exports');
    const exportBlob = (await stored(exported.id)).result!.blobName!;
    const listedBlob = (await stored(listed.id)).result!.blobName!;

    const ctx = await contextFor('delete', [alice]);
    const page = await privacyResultSource.page(ctx, null);
    expect(page.next).toBeNull();
    expect([...page.items].sort((a, b) => a.id.localeCompare(b.id))).toStrictEqual(
      [
        { kind: 'privacyResult', id: exported.id, facts: { action: 'export' }, ref: exported.id },
        { kind: 'privacyResult', id: listed.id, facts: { action: 'inventory' }, ref: listed.id },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    // The request's own result is not an earlier one.
    expect((await privacyResultSource.page({ ...ctx, requestId: exported.id }, null)).items.map((i) => i.id)).toEqual([listed.id]);

    await blobs.getBlockBlobClient(exportBlob).createSnapshot();
    // Refs of a request without a result (submitted, not run) and of one that is gone are passed over.
    const pending = (await services().privacy.submit(resource, { action: 'inventory', subjects: { identityIds: [alice], phoneNumbers: [], emails: [] } })).request.id;
    await privacyResultSource.erase(ctx, [pending, 'no-such-request', exported.id, listed.id]);
    await privacyResultSource.erase(ctx, [exported.id, listed.id]);
    expect(await blobsNamed('exports', exportBlob)).toEqual([]);
    for (const [id, blob] of [
      [exported.id, exportBlob],
      [listed.id, listedBlob],
    ] as const) {
      expect((await stored(id)).result).toMatchObject({ erasedBy: ctx.requestId });
      expect((await stored(id)).result!.blobName).toBeUndefined();
      expect(await blobs.getBlockBlobClient(blob).exists()).toBe(false);
    }
    expect((await privacyResultSource.page(ctx, null)).items).toEqual([]);
    // Bob's own export is untouched.
    expect(await blobs.getBlockBlobClient((await stored(bobs.id)).result!.blobName!).exists()).toBe(true);
  });
});

describe('phone numbers', () => {
  const ALICE = '+14255550101';
  const BOB = '+14255550102';
  const raw = (n: string) => `4:${n}`;
  const base = (id: string, names: string[], of: Resource = resource) => ({ id, resourceId: of.id, subjects: names.map(raw) });

  it("lists the Phone Numbers API's and SMS records naming a subject's number, each described for export, and erases them", async () => {
    const numbers = await europe().container('phoneNumberRecords');
    const sms = await europe().container('smsRecords');
    const numberRecords: NumberRecord[] = [
      { ...base('pn-1-assignment', [ALICE]), kind: 'phoneNumberAssignment', phoneNumber: ALICE, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-11-01T00:00:00.000Z', searchId: 's1' },
      { ...base('pn-2-assignment', [ALICE]), kind: 'phoneNumberAssignment', phoneNumber: ALICE, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-10-01T00:00:00.000Z', releasedAt: '2026-10-15T00:00:00.000Z', searchId: 's0' },
      {
        ...base('pn-3-search', [ALICE, BOB]),
        kind: 'phoneNumberSearch',
        countryCode: 'US',
        phoneNumberType: 'tollFree',
        assignmentType: 'application',
        capabilities: { calling: 'none', sms: 'inbound+outbound' },
        quantity: 2,
        phoneNumbers: [ALICE, BOB],
        createdAt: '2026-11-01T00:00:00.000Z',
        searchExpiresBy: '2026-11-01T00:15:00.000Z',
        expiresAt: '2026-11-01T00:15:00.000Z',
      },
      {
        ...base('pn-4-operation', [ALICE]),
        kind: 'phoneNumberOperation',
        operationType: 'purchase',
        status: 'succeeded',
        createdDateTime: '2026-11-01T00:01:00.000Z',
        lastActionDateTime: '2026-11-01T00:02:00.000Z',
        input: { searchId: 's1' },
        expiresAt: '2026-11-02T00:01:00.000Z',
      },
      { ...base('pn-5-bob', [BOB]), kind: 'phoneNumberAssignment', phoneNumber: BOB, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-11-01T00:00:00.000Z', searchId: 's1' },
      { ...base('pn-6-other', [ALICE], other), kind: 'phoneNumberAssignment', phoneNumber: ALICE, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-11-01T00:00:00.000Z', searchId: 's1' },
    ];
    const smsRecords: SmsRecord[] = [
      { ...base('sms-1-optout', [ALICE]), kind: 'smsOptOut', phoneNumber: '+18005550100', recipient: ALICE, optedOutAt: '2026-11-03T00:00:00.000Z' },
      {
        ...base('sms-2-delivery', [ALICE]),
        kind: 'smsDelivery',
        phoneNumber: '+18005550100',
        recipient: ALICE,
        messageId: 'm1',
        segment: 2,
        segments: 3,
        link: 'carrier-a',
        carrierMessageId: 'c1',
        submittedAt: '2026-11-03T01:00:00.000Z',
        expiresAt: '2026-11-05T01:00:00.000Z',
      },
      { ...base('sms-3-repeat', [ALICE]), kind: 'smsRepeatability', phoneNumber: '+18005550100', recipient: ALICE, messageId: 'm2', firstSent: '2026-11-03T02:00:00.000Z', createdAt: '2026-11-03T02:00:00.000Z', expiresAt: '2026-11-04T02:00:00.000Z' },
      {
        ...base('sms-4-repeat', [ALICE]),
        kind: 'smsRepeatability',
        phoneNumber: '+18005550100',
        recipient: ALICE,
        messageId: 'm3',
        firstSent: '2026-11-03T03:00:00.000Z',
        createdAt: '2026-11-03T03:00:00.000Z',
        outcome: { httpStatusCode: 202, successful: true, messageId: 'm3' },
        expiresAt: '2026-11-04T03:00:00.000Z',
      },
      { ...base('sms-5-bob', [BOB]), kind: 'smsOptOut', phoneNumber: '+18005550100', recipient: BOB, optedOutAt: '2026-11-03T00:00:00.000Z' },
    ];
    for (const r of numberRecords) await numbers.items.create(r);
    for (const r of smsRecords) await sms.items.create(r);

    const ctx = await contextFor('export', [], { holds: { threads: new Map(), identities: new Map([[raw(BOB), ['hold-bob']]]) } }, { phoneNumbers: [ALICE] });
    const phonePage = await phoneNumberSource.page(ctx, null);
    expect(phonePage.next).toStrictEqual({ k: 1 });
    expect(phonePage.items).toStrictEqual([
      {
        kind: 'phoneNumberAssignment',
        id: 'pn-1-assignment',
        heldBy: undefined,
        view: { record: 'assignment', phoneNumber: ALICE, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-11-01T00:00:00.000Z', releasedAt: null },
        facts: { assignedAt: '2026-11-01T00:00:00.000Z', released: false },
        ref: 'pn-1-assignment',
      },
      {
        kind: 'phoneNumberAssignment',
        id: 'pn-2-assignment',
        heldBy: undefined,
        view: { record: 'assignment', phoneNumber: ALICE, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', assignedAt: '2026-10-01T00:00:00.000Z', releasedAt: '2026-10-15T00:00:00.000Z' },
        facts: { assignedAt: '2026-10-01T00:00:00.000Z', released: true },
        ref: 'pn-2-assignment',
      },
      {
        kind: 'phoneNumberSearch',
        id: 'pn-3-search',
        heldBy: ['hold-bob'],
        // Only the subject's own number of the search's numbers.
        view: { record: 'search', searchId: 'pn-3-search', countryCode: 'US', phoneNumberType: 'tollFree', phoneNumbers: [ALICE], createdAt: '2026-11-01T00:00:00.000Z', searchExpiresBy: '2026-11-01T00:15:00.000Z' },
        facts: { createdAt: '2026-11-01T00:00:00.000Z', expiresAt: '2026-11-01T00:15:00.000Z' },
        ref: 'pn-3-search',
      },
      {
        kind: 'phoneNumberOperation',
        id: 'pn-4-operation',
        heldBy: undefined,
        view: { record: 'operation', operationId: 'pn-4-operation', operationType: 'purchase', status: 'succeeded', createdDateTime: '2026-11-01T00:01:00.000Z' },
        facts: { operationType: 'purchase', status: 'succeeded', expiresAt: '2026-11-02T00:01:00.000Z' },
        ref: 'pn-4-operation',
      },
    ]);
    const smsPage = await smsSource.page(ctx, null);
    expect(smsPage.items).toStrictEqual([
      {
        kind: 'smsOptOut',
        id: 'sms-1-optout',
        heldBy: undefined,
        view: { record: 'optOut', phoneNumber: '+18005550100', recipient: ALICE, optedOutAt: '2026-11-03T00:00:00.000Z' },
        facts: { optedOutAt: '2026-11-03T00:00:00.000Z' },
        ref: 'sms-1-optout',
      },
      {
        kind: 'smsDeliveryReportPending',
        id: 'sms-2-delivery',
        heldBy: undefined,
        view: { record: 'deliveryReportPending', messageId: 'm1', from: '+18005550100', to: ALICE, segment: 2, segments: 3, submittedAt: '2026-11-03T01:00:00.000Z' },
        facts: { submittedAt: '2026-11-03T01:00:00.000Z', expiresAt: '2026-11-05T01:00:00.000Z' },
        ref: 'sms-2-delivery',
      },
      {
        kind: 'smsRepeatability',
        id: 'sms-3-repeat',
        heldBy: undefined,
        view: { record: 'repeatability', messageId: 'm2', from: '+18005550100', to: ALICE, firstSent: '2026-11-03T02:00:00.000Z', outcome: null },
        facts: { firstSent: '2026-11-03T02:00:00.000Z', expiresAt: '2026-11-04T02:00:00.000Z' },
        ref: 'sms-3-repeat',
      },
      {
        kind: 'smsRepeatability',
        id: 'sms-4-repeat',
        heldBy: undefined,
        view: { record: 'repeatability', messageId: 'm3', from: '+18005550100', to: ALICE, firstSent: '2026-11-03T03:00:00.000Z', outcome: { httpStatusCode: 202, successful: true, messageId: 'm3' } },
        facts: { firstSent: '2026-11-03T03:00:00.000Z', expiresAt: '2026-11-04T03:00:00.000Z' },
        ref: 'sms-4-repeat',
      },
    ]);

    await phoneNumberSource.erase(ctx, [...phonePage.items.map((i) => i.ref), 'pn-gone']);
    await smsSource.erase(ctx, [...smsPage.items.map((i) => i.ref), 'sms-gone']);
    const ids = async (container: typeof numbers, of: Resource) => (await container.items.readAll<{ id: string; resourceId: string }>().fetchAll()).resources.filter((r) => r.resourceId === of.id).map((r) => r.id).sort();
    expect(await ids(numbers, resource)).toEqual(['pn-5-bob']);
    expect(await ids(numbers, other)).toEqual(['pn-6-other']);
    expect(await ids(sms, resource)).toEqual(['sms-5-bob']);
  });
});

describe('e-mail', () => {
  const ALICE = 'alice@contoso.example';
  const BOB = 'bob@contoso.example';

  it('lists an address’s suppression entry, sender username and messages still being delivered, and erases them (a message is canceled)', async () => {
    const geo = europe();
    const suppressions = await geo.container('emailSuppressions');
    const domains = await geo.container('emailDomains');
    const operations = await geo.container('emailOperations');
    const suppression = (address: string): SuppressionRecord => ({
      id: suppressionId(resource.id, address),
      resourceId: resource.id,
      kind: 'emailSuppression',
      address,
      reason: 'hardBounce',
      code: 550,
      operationId: 'op-x',
      bouncedAt: '2026-11-20T00:00:00.000Z',
      expiresAt: '2026-12-04T00:00:00.000Z',
    });
    const sender = (username: string): SenderUsernameRecord => ({
      id: senderItemId('contoso.example', username),
      resourceId: resource.id,
      kind: 'emailSenderUsername',
      domain: 'contoso.example',
      username,
      displayName: `${username} at Contoso`,
      createdAt: '2026-11-01T00:00:00.000Z',
      updatedAt: '2026-11-01T00:00:00.000Z',
    });
    const content = await geo.blobContainer('email-content');
    await content.getBlockBlobClient(`${resource.id}/op-1`).upload('mime', 4);
    const operation = (id: string, from: string, keys: string[], contentBlob: string | null = null): EmailOperationRecord => ({
      id,
      resourceId: resource.id,
      kind: 'emailOperation',
      status: 'Running',
      createdAt: '2026-12-03T09:00:00.000Z',
      updatedAt: '2026-12-03T09:00:00.000Z',
      requestHash: 'h',
      nextAttemptAt: '2026-12-03T09:05:00.000Z',
      lease: null,
      attempts: 1,
      sender: from,
      senderAddress: from,
      contentBlob,
      recipients: [],
      subjectKeys: keys,
    });
    await suppressions.items.create(suppression(ALICE));
    await suppressions.items.create(suppression(BOB));
    await domains.items.create(sender('Alice'));
    await domains.items.create(sender('bob'));
    for (const op of [operation('op-1', ALICE, [ALICE, BOB], `${resource.id}/op-1`), operation('op-2', BOB, [BOB, ALICE]), operation('op-3', BOB, [BOB])]) await operations.items.create(op);

    // The address as the request gave it, in another case: stores hold it in lower case.
    // carol has nothing stored.
    const ctx = await contextFor('delete', [], {}, { emails: ['Alice@Contoso.example', 'carol@contoso.example'] });
    const suppressionPage = await emailSuppressionSource.page(ctx, null);
    const facts = { reason: 'hardBounce', code: 550, bouncedAt: '2026-11-20T00:00:00.000Z', expiresAt: '2026-12-04T00:00:00.000Z' };
    expect(suppressionPage).toStrictEqual({ items: [{ kind: 'emailSuppression', id: suppressionId(resource.id, ALICE), facts, view: { address: ALICE, ...facts }, ref: ALICE }], next: null });
    const senderPage = await emailSenderSource.page(ctx, null);
    const senderId = senderItemId('contoso.example', 'alice');
    expect(senderPage).toStrictEqual({
      items: [{ kind: 'emailSender', id: senderId, view: { mailFrom: 'Alice@contoso.example', displayName: 'Alice at Contoso', createdAt: '2026-11-01T00:00:00.000Z' }, facts: { domain: 'contoso.example' }, ref: senderId }],
      next: null,
    });
    const messagePage = await emailMessageSource.page(ctx, null);
    const message = (id: string, role: string) => ({ kind: 'emailMessage', id, facts: { status: 'Running', role }, view: { operationId: id, status: 'Running', createdAt: '2026-12-03T09:00:00.000Z', role }, ref: id });
    expect(messagePage).toStrictEqual({ items: [message('op-1', 'sender'), message('op-2', 'recipient')], next: { k: 1 } });
    expect(await emailMessageSource.page(ctx, { k: 1 })).toStrictEqual({ items: [], next: null });

    await emailSuppressionSource.erase(ctx, suppressionPage.items.map((i) => i.ref));
    await emailSenderSource.erase(ctx, [...senderPage.items.map((i) => i.ref), 'sender:gone']);
    await emailMessageSource.erase(ctx, messagePage.items.map((i) => i.ref));
    const left = async (container: typeof suppressions) => (await container.items.readAll<{ id: string; resourceId: string }>().fetchAll()).resources.filter((r) => r.resourceId === resource.id).map((r) => r.id).sort();
    expect(await left(suppressions)).toEqual([suppressionId(resource.id, BOB)]);
    expect(await left(domains)).toEqual([senderItemId('contoso.example', 'bob')]);
    const stored = async (id: string) => (await operations.item(id, resource.id).read<EmailOperationRecord>()).resource!;
    for (const id of ['op-1', 'op-2']) expect(await stored(id)).toMatchObject({ status: 'Canceled', sender: null, subjectKeys: null, contentBlob: null, recipients: null });
    expect(await stored('op-3')).toMatchObject({ status: 'Running', sender: BOB, subjectKeys: [BOB] });
    expect(await content.getBlockBlobClient(`${resource.id}/op-1`).exists()).toBe(false);
    // Canceled messages are not found again.
    expect((await emailMessageSource.page(ctx, null)).items).toEqual([]);
  });
});

describe('chat', () => {
  it("walks a person's threads newest membership first: participation, read receipts and messages page by page, with holds; erase leaves nothing of them", async () => {
    const [alice, bob, carol] = await Promise.all([0, 1, 2].map(() => createChatUser(stack, view)));
    const a = alice!;
    // t1: alice created it with bob and sent three messages; bob one.
    const t1 = (await a.chat.createChatThread({ topic: 't1' }, { participants: [{ id: userRef(bob!), displayName: 'Bob' }] })).chatThread!.id;
    for (const text of ['m1', 'm2', 'm3']) await a.thread(t1).sendMessage({ content: text });
    await bob!.thread(t1).sendMessage({ content: 'b1' });
    // t2: bob's, with alice (who sent one message and read it) and carol; then bob removed alice.
    const t2 = (await bob!.chat.createChatThread({ topic: 't2' }, { participants: [{ id: userRef(a), displayName: 'Alice' }, { id: userRef(carol!) }] })).chatThread!.id;
    await a.thread(t2).sendMessage({ content: 'a1' });
    const [latest] = await all(a.thread(t2).listMessages({ maxPageSize: 1 }));
    await a.thread(t2).sendReadReceipt({ chatMessageId: latest!.id });
    await bob!.thread(t2).removeParticipant(userRef(a));
    // t3: carol's, alice added later.
    const t3 = (await carol!.chat.createChatThread({ topic: 't3' }, { participants: [] })).chatThread!.id;
    await carol!.thread(t3).addParticipants({ participants: [{ id: userRef(a) }] });

    const store = new ChatStore(europe());
    const memberships = await store.membershipPage(a.id, { limit: 10 });
    expect(memberships.map((m) => m.threadId)).toEqual([t3, t2, t1]);
    const sortKey = (threadId: string) => memberships.find((m) => m.threadId === threadId)!.sortKey;
    const holds = { threads: new Map([[t1, ['h-thread']], [t3, ['h-both']]]), identities: new Map([[a.id, ['h-both']]]) };
    const ctx = await contextFor('export', [a.id], { pageSize: 2, holds });

    const participation = await participationSource.page(ctx, null);
    expect(participation.next).toStrictEqual({ i: 1 });
    const ref = (t: string) => ({ t, i: a.id });
    expect(participation.items.map(({ view: _view, ...rest }) => rest)).toStrictEqual([
      { kind: 'chatParticipation', id: t3, heldBy: ['h-both'], facts: { identityId: a.id, current: true, createdThread: false }, ref: ref(t3) },
      { kind: 'chatParticipation', id: t2, heldBy: ['h-both'], facts: { identityId: a.id, current: false, createdThread: false }, ref: ref(t2) },
      { kind: 'chatParticipation', id: t1, heldBy: ['h-thread', 'h-both'], facts: { identityId: a.id, current: true, createdThread: true }, ref: ref(t1) },
    ]);
    const removed = (await store.participant(t2, a.id))!;
    expect(participation.items[1]!.view).toStrictEqual({
      threadId: t2,
      identityId: a.id,
      topic: 't2',
      displayName: 'Alice',
      metadata: undefined,
      shareHistoryTime: undefined,
      joinedOn: removed.addedOn,
      removedOn: removed.removedOn,
      createdThread: false,
    });
    expect(removed.removedOn).toEqual(expect.any(String));
    expect(participation.items[2]!.view).toMatchObject({ threadId: t1, topic: 't1', createdThread: true, removedOn: undefined });
    expect(await participationSource.page(ctx, { i: 1 })).toStrictEqual({ items: [], next: null });
    // A thread hold alone keeps only that thread's items; with no hold an item has none.
    const threadHeld = await contextFor('export', [a.id], { holds: { threads: new Map([[t1, ['h-thread']]]), identities: new Map() } });
    expect((await participationSource.page(threadHeld, null)).items.map((i) => [i.id, i.heldBy])).toStrictEqual([
      [t3, undefined],
      [t2, undefined],
      [t1, ['h-thread']],
    ]);

    const receipts = await readReceiptSource.page(ctx, null);
    expect(receipts).toStrictEqual({
      items: [
        {
          kind: 'chatReadReceipt',
          id: `${t2}/${receiptItemId(a.id)}`,
          heldBy: ['h-both'],
          view: { threadId: t2, identityId: a.id, chatMessageId: latest!.id, readOn: (await store.receipt(t2, a.id))!.readOn },
          ref: ref(t2),
        },
      ],
      next: { i: 1 },
    });

    // Messages, two at a time: t3's one system message, t2's two pages, t1's three.
    const pages: { items: { kind: string; t: string; sent: boolean; held?: string[]; text?: string }[]; next: unknown }[] = [];
    let cursor = null;
    for (let i = 0; i < 10; i += 1) {
      const page = await messageSource.page(ctx, cursor);
      pages.push({
        items: page.items.map((item) => {
          const r = item.ref as { t: string; i: string; m: string; s?: 1 };
          expect(item.id).toBe(`${r.t}/${r.m}`);
          expect(r.i).toBe(a.id);
          expect(r.s === 1).toBe(item.kind === 'chatMessage');
          const text = (item.view as { content?: { message: string } } | undefined)?.content?.message;
          return { kind: item.kind, t: r.t, sent: r.s === 1, held: item.heldBy, ...(text ? { text } : {}) };
        }),
        next: page.next,
      });
      cursor = page.next;
      if (!cursor) break;
    }
    const system = (t: string, held: string[]) => ({ kind: 'chatSystemMessage', t, sent: false, held });
    const sent = (t: string, text: string, held: string[]) => ({ kind: 'chatMessage', t, sent: true, held, text });
    const seqOf = async (t: string, text: string) => (await store.messagesMentioning(t, a.id, 50)).find((m) => m.content === text)!.sequence;
    expect(pages).toStrictEqual([
      { items: [system(t3, ['h-both'])], next: { i: 0, after: sortKey(t3) } },
      { items: [system(t2, ['h-both']), sent(t2, 'a1', ['h-both'])], next: { i: 0, after: sortKey(t3), thread: t2, cur: sortKey(t2), seq: await seqOf(t2, 'a1') } },
      { items: [system(t2, ['h-both'])], next: { i: 0, after: sortKey(t2) } },
      { items: [system(t1, ['h-thread', 'h-both']), system(t1, ['h-thread', 'h-both'])], next: { i: 0, after: sortKey(t2), thread: t1, cur: sortKey(t1), seq: 2 } },
      { items: [sent(t1, 'm1', ['h-thread', 'h-both']), sent(t1, 'm2', ['h-thread', 'h-both'])], next: { i: 0, after: sortKey(t2), thread: t1, cur: sortKey(t1), seq: await seqOf(t1, 'm2') } },
      { items: [sent(t1, 'm3', ['h-thread', 'h-both'])], next: { i: 0, after: sortKey(t1) } },
      { items: [], next: null },
    ]);

    // Pages of three from the start of t1: the next page starts after the third message.
    const inT1 = await messageSource.page({ ...ctx, pageSize: 3 }, { i: 0, after: sortKey(t2), thread: t1, cur: sortKey(t1), seq: 0 });
    expect(inT1.items.map((i) => i.kind)).toEqual(['chatSystemMessage', 'chatSystemMessage', 'chatMessage']);
    expect(inT1.next).toStrictEqual({ i: 0, after: sortKey(t2), thread: t1, cur: sortKey(t1), seq: await seqOf(t1, 'm1') });

    // Erase: messages, receipts, then participation, as a delete walks them.
    const erasing = await contextFor('delete', [a.id]);
    const refsOf = async (source: typeof messageSource) => {
      const refs: unknown[] = [];
      for (let c = null, i = 0; i < 10; i += 1) {
        const page = await source.page(erasing, c);
        refs.push(...page.items.map((item) => item.ref));
        if (!(c = page.next)) break;
      }
      return refs;
    };
    const messageRefs = await refsOf(messageSource);
    expect(messageRefs).toHaveLength(9);
    const bobsMentions = async () => (await store.messagesMentioning(t1, bob!.id, 50)).map((m) => `${m.messageId}:${m.mentions.includes(a.id)}`);
    const bobsBefore = (await bobsMentions()).map((m) => m.replace(':true', ':false'));
    await messageSource.erase(erasing, messageRefs);
    // Safe to run again: what is gone is passed over.
    await messageSource.erase(erasing, messageRefs);
    // System messages naming bob too stay, without alice.
    expect(await bobsMentions()).toEqual(bobsBefore);
    await readReceiptSource.erase(erasing, await refsOf(readReceiptSource));
    await participationSource.erase(erasing, await refsOf(participationSource));
    for (const t of [t1, t2, t3]) {
      expect(await store.messagesMentioning(t, a.id, 50), t).toEqual([]);
      expect(await store.participant(t, a.id), t).toBeUndefined();
    }
    expect(await store.receipt(t2, a.id)).toBeUndefined();
    expect(await store.membershipPage(a.id, { limit: 10 })).toEqual([]);
    // What others wrote and their places stay; the thread alice created names a placeholder creator.
    expect((await store.messagesMentioning(t1, bob!.id, 50)).map((m) => m.content).filter(Boolean)).toContain('b1');
    expect(await store.participant(t1, bob!.id)).toBeDefined();
    expect((await store.thread(t1))!.createdBy).toBe(deletedIdentityId(resource.id));
    expect((await store.thread(t3))!.createdBy).toBe(carol!.id);
  });
});

describe('chat, many threads', () => {
  it('pages memberships 50 at a time, skips a subject without any, passes over at most 50 threads without a message, and copes with items gone', async () => {
    const [bob, dave, erin] = await Promise.all([0, 1, 2].map(() => createChatUser(stack, view)));
    const threads: string[] = [];
    for (let i = 0; i < 52; i += 1) threads.push((await bob!.chat.createChatThread({ topic: `many ${i}` }, { participants: [{ id: userRef(erin!) }] })).chatThread!.id);
    const store = new ChatStore(europe());
    const memberships = await store.membershipPage(erin!.id, { limit: 100 });
    const newestFirst = memberships.map((m) => m.threadId);
    expect(newestFirst).toHaveLength(52);
    // dave, the first subject, is in no thread: the walk goes on to erin.
    const ctx = await contextFor('export', [dave!.id, erin!.id]);

    const first = await participationSource.page(ctx, null);
    expect(first.items.map((i) => i.id)).toEqual(newestFirst.slice(0, 50));
    expect(first.next).toStrictEqual({ i: 1, after: memberships[49]!.sortKey });
    const second = await participationSource.page(ctx, first.next);
    expect(second.items.map((i) => i.id)).toEqual(newestFirst.slice(50));
    expect(second.next).toStrictEqual({ i: 2 });
    expect(await participationSource.page(ctx, second.next)).toStrictEqual({ items: [], next: null });

    // A membership whose participant item is gone (erin was removed, then the item went), and one whose
    // thread item is gone: the membership's own dates stand in.
    const [noParticipant, noThread] = [newestFirst[0]!, newestFirst[1]!];
    await bob!.thread(noParticipant).removeParticipant(userRef(erin!));
    const removedMembership = (await store.membershipPage(erin!.id, { limit: 1 }))[0]!;
    expect(removedMembership).toMatchObject({ threadId: noParticipant, removedOn: expect.any(String) });
    await store.deleteThreadItem(noParticipant, participantItemId(erin!.id));
    await store.deleteThreadItem(noThread, threadItemId(noThread));
    const [withoutParticipant, withoutThread] = (await participationSource.page(ctx, null)).items;
    expect(withoutParticipant).toMatchObject({ facts: { identityId: erin!.id, current: false, createdThread: false } });
    expect(withoutParticipant!.view).toStrictEqual({
      threadId: noParticipant,
      identityId: erin!.id,
      topic: 'many 51',
      displayName: undefined,
      metadata: undefined,
      shareHistoryTime: undefined,
      joinedOn: removedMembership.joinedOn,
      removedOn: removedMembership.removedOn,
      createdThread: false,
    });
    expect(withoutThread).toMatchObject({ facts: { identityId: erin!.id, current: true, createdThread: false }, view: { threadId: noThread, topic: undefined } });

    // Only the oldest thread still has a message naming erin: a page passes over 50 threads without
    // one (dave's empty walk counts as one of them), then answers an empty page after the 50th thread.
    for (const threadId of newestFirst.slice(0, 51)) for (const m of await store.messagesMentioning(threadId, erin!.id, 50)) await store.deleteThreadItem(threadId, m.id);
    const empty = await messageSource.page(ctx, null);
    expect(empty).toStrictEqual({ items: [], next: { i: 1, after: memberships[49]!.sortKey } });
    const last = await messageSource.page(ctx, empty.next);
    const oldest = await store.messagesMentioning(newestFirst[51]!, erin!.id, 50);
    expect(oldest).toHaveLength(1);
    expect(last.items.map((i) => i.id)).toEqual([`${newestFirst[51]}/${oldest[0]!.messageId}`]);
  });
});
