import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { all, createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { PrivacyClient } from '../support/privacy.js';
import { sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Data subject requests end to end on the real stack: one person (alice) with two identities and a
 * phone number, messages in several threads, read receipts, a recording and the operation logs all
 * that left; other people (bob, carol) in the same threads; one thread under legal hold.
 */

let stack: TestStack;
const clock = new ManualClock(new Date());
const DAY = 86_400_000;
let resource: ResourceView;
let privacy: PrivacyClient;
let alice1: ChatUser, alice2: ChatUser, bob: ChatUser, carol: ChatUser;
const alicePhone = '+14255550199';
const threads: Record<string, string> = {};
const aliceTexts: string[] = [];
const otherTexts: string[] = [];
let heldThreadHold: string;

beforeAll(async () => {
  // The worker runs when a test asks (its schedule would also run it every 10 s).
  stack = await startTestStack({ clock, env: { PRIVACY_WORKER_SCHEDULE: '0 0 0 1 1 *', PRIVACY_PAGE_SIZE: '10', LOCAL_BLOB_EVENTS_POLL_MS: '3600000' } });
  resource = await stack.createResource('dsr-e2e', 'Europe');
  privacy = new PrivacyClient(() => stack, resource, clock);
  const users = await Promise.all([0, 1, 2, 3].map(() => createChatUser(stack, resource)));
  [alice1, alice2, bob, carol] = [users[0]!, users[1]!, users[2]!, users[3]!];

  const say = async (user: ChatUser, threadId: string, text: string) => {
    await user.thread(threadId).sendMessage({ content: text });
    (user === alice1 || user === alice2 ? aliceTexts : otherTexts).push(text);
  };
  const create = async (name: string, creator: ChatUser, others: ChatUser[]) => {
    const { chatThread } = await creator.chat.createChatThread({ topic: name }, { participants: others.map((u) => ({ id: userRef(u) })) });
    threads[name] = chatThread!.id;
    return chatThread!.id;
  };
  const t1 = await create('t1', alice1, [bob]);
  const t2 = await create('t2', bob, [alice2, carol]);
  const t3 = await create('t3', alice1, [carol]);
  const t4 = await create('held', bob, [alice2]);
  for (let i = 0; i < 12; i += 1) await say(alice1, t1, `alice1 in t1 #${i}`);
  await say(bob, t1, 'bob in t1');
  await say(alice2, t2, 'alice2 in t2');
  await say(carol, t2, 'carol in t2');
  await say(alice1, t3, 'alice1 in t3');
  await say(alice2, t4, 'alice2 in held');
  await say(bob, t4, 'bob in held');
  const [latest1] = await all(alice1.thread(t1).listMessages({ maxPageSize: 1 }));
  await alice1.thread(t1).sendReadReceipt({ chatMessageId: latest1!.id });
  await bob.thread(t1).sendReadReceipt({ chatMessageId: latest1!.id });
  const [latest2] = await all(alice2.thread(t2).listMessages({ maxPageSize: 1 }));
  await alice2.thread(t2).sendReadReceipt({ chatMessageId: latest2!.id });

  const participants = (ids: string[], phone?: string) => [...ids.map((id) => ({ communicationUser: { id } })), ...(phone ? [{ phoneNumber: { value: phone } }] : [])];
  for (const metadata of [
    sampleMetadata(resource.id, { participants: participants([alice1.id, bob.id], alicePhone) }),
    sampleMetadata(resource.id, { participants: participants([bob.id, carol.id]) }),
  ]) {
    const uploaded = await uploadRecording(stack, resource, { metadata, date: clock.now() });
    expect(uploaded.status, uploaded.text).toBe(201);
  }
  const hold = await stack.management('POST', `/api/management/resources/${resource.name}/legalHolds`, { target: { kind: 'thread', threadId: t4 }, reason: 'litigation' });
  expect(hold.status, hold.text).toBe(201);
  heldThreadHold = hold.body.id;
});
afterAll(async () => stack?.stop());

const aliceSubjects = () => ({ identityIds: [alice1.id, alice2.id], phoneNumbers: [alicePhone], emails: ['Alice@Example.com'] });
const europe = () => services().stores.forGeography(geographyByKey('europe'));
type Listing = { data: Record<string, { kind: string; id: string; heldBy?: string[] }[]>; counts: Record<string, { found: number; held: number }> };
let inventoryBefore: Listing;
/** The inventory run after the delete: the only request whose result is still kept when the retention test starts. */
let inventoryAfterDelete: string;
const sortedLists = (lists: string[][]) => lists.map((l) => [...l].sort()).sort((a, b) => a.join().localeCompare(b.join()));
const aliceKeys = () => [alice1.id, alice2.id, `4:${alicePhone}`];
const namesAlice = (subjects: string[]) => subjects.some((s) => aliceKeys().includes(s));

describe('operation logs', () => {
  it('records every API operation in the geography with the people it involved', async () => {
    const container = await europe().container('operationLogs');
    const { resources } = await container.items
      .query<{ operation: string; status: number; subjects: string[]; correlationId: string; resourceId: string }>({
        query: 'SELECT * FROM c WHERE c.resourceId = @rid',
        parameters: [{ name: '@rid', value: resource.id }],
      })
      .fetchAll();
    const ops = (name: string) => resources.filter((r) => r.operation === name);
    expect(ops('CreateIdentity')).toHaveLength(4);
    expect(sortedLists(ops('CreateIdentity').map((r) => r.subjects))).toEqual(sortedLists([[alice1.id], [alice2.id], [bob.id], [carol.id]]));
    expect(ops('SendChatMessage')).toHaveLength(18);
    expect(ops('SendChatMessage').filter((r) => r.subjects.includes(alice1.id))).toHaveLength(13);
    // Each message names its sender and no one else: alice1 12 + 1, alice2 2, bob 2, carol 1.
    expect(sortedLists(ops('SendChatMessage').map((r) => r.subjects))).toEqual(
      sortedLists([...Array(13).fill([alice1.id]), ...Array(2).fill([alice2.id]), ...Array(2).fill([bob.id]), [carol.id]]),
    );
    // Each thread creation names its creator and the participants it added.
    expect(sortedLists(ops('CreateChatThread').map((r) => r.subjects))).toEqual(
      sortedLists([[alice1.id, bob.id], [bob.id, alice2.id, carol.id], [alice1.id, carol.id], [bob.id, alice2.id]]),
    );
    expect(sortedLists(ops('SendChatReadReceipt').map((r) => r.subjects))).toEqual(sortedLists([[alice1.id], [bob.id], [alice2.id]]));
    expect(sortedLists(ops('UploadRecording').map((r) => r.subjects))).toEqual(sortedLists([[alice1.id, bob.id, `4:${alicePhone}`], [bob.id, carol.id]]));
    // The set-up's listings are alice1's of t1 and alice2's of t2 (page by page): each names its caller only.
    expect(ops('ListChatMessages').filter((r) => r.subjects.length !== 1 || !namesAlice(r.subjects))).toEqual([]);
    expect(new Set(resources.map((r) => r.operation))).toEqual(new Set(['CreateIdentity', 'SendChatMessage', 'CreateChatThread', 'SendChatReadReceipt', 'UploadRecording', 'ListChatMessages']));
    // Every operation succeeded, with the status its API answers.
    const statusOf: Record<string, number> = { CreateIdentity: 201, SendChatMessage: 201, CreateChatThread: 201, SendChatReadReceipt: 200, UploadRecording: 201, ListChatMessages: 200 };
    expect(resources.filter((r) => r.status !== statusOf[r.operation])).toEqual([]);
    // One correlation id per operation, each a UUID.
    for (const r of resources) expect(r.correlationId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(new Set(resources.map((r) => r.correlationId)).size).toBe(resources.length);
  });
});

describe('inventory', () => {
  it('lists every item held about the person, by store and kind, with what holds keep', async () => {
    const { id, location } = await privacy.submit('inventory', aliceSubjects());
    expect(location).toContain(`/privacy/requests/${id}`);
    expect(location).toContain('resource=dsr-e2e');
    const view = await privacy.finished(id);
    expect(view.status).toBe('succeeded');
    expect(JSON.stringify(view)).not.toContain(alice1.id);
    inventoryBefore = (await privacy.result(id)) as Listing;
    const c = inventoryBefore.counts;
    expect(c.identity).toEqual({ found: 2, held: 0 });
    expect(c.chatMessage).toEqual({ found: 15, held: 1 });
    expect(c.chatParticipation).toEqual({ found: 4, held: 1 });
    expect(c.chatReadReceipt).toEqual({ found: 2, held: 0 });
    expect(c.recording).toEqual({ found: 1, held: 0 });
    // Exactly the stored records that name alice1, alice2 or her phone number, counted here straight from the stores.
    const stored = async (container: 'operationLogs' | 'outbox') => {
      const { resources } = await (await europe().container(container)).items
        .query<{ subjects?: string[]; operation?: string }>({ query: 'SELECT c.subjects, c.operation FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] })
        .fetchAll();
      return resources;
    };
    const allLogs = await stored('operationLogs');
    const aliceLogs = allLogs.filter((r) => namesAlice(r.subjects ?? []));
    const byOperation = (records: { operation?: string }[]) => records.reduce<Record<string, number>>((n, r) => ({ ...n, [r.operation!]: (n[r.operation!] ?? 0) + 1 }), {});
    // 2 identities, 15 messages, 4 threads, 2 read receipts, 1 recording, and every listing (all hers: see above).
    expect(byOperation(aliceLogs)).toEqual({
      CreateIdentity: 2, SendChatMessage: 15, CreateChatThread: 4, SendChatReadReceipt: 2, UploadRecording: 1,
      ListChatMessages: allLogs.filter((r) => r.operation === 'ListChatMessages').length,
    });
    expect(c.operationLog).toEqual({ found: aliceLogs.length, held: 0 });
    // One outbox entry per change that named her and is kept as a delivery record: the 4 thread
    // creations. The 18 sends that named her (hers, and the 3 to her) had their entries in their
    // threads' partitions, deleted once published: none is left there either.
    expect((await stored('outbox')).filter((r) => namesAlice(r.subjects ?? []))).toHaveLength(4);
    const { resources: inThreads } = await (await europe().container('chatThreads')).items.query('SELECT c.id FROM c WHERE c.kind = "outboxEntry"').fetchAll();
    expect(inThreads).toEqual([]);
    expect(c.outboxEntry).toEqual({ found: 4, held: 0 });
    expect(c.chatSystemMessage).toEqual({ found: 6, held: 1 });
    expect(Object.keys(c).sort()).toEqual(['chatMessage', 'chatParticipation', 'chatReadReceipt', 'chatSystemMessage', 'identity', 'operationLog', 'outboxEntry', 'recording']);
    expect(inventoryBefore.data.chatParticipation!.map((p) => p.id).sort()).toEqual([threads.t1, threads.t2, threads.t3, threads.held].sort());
    expect(inventoryBefore.data.chatMessages!.filter((m) => m.heldBy && m.kind === 'chatMessage')).toEqual([expect.objectContaining({ heldBy: [heldThreadHold] })]);
    expect(inventoryBefore.data.identities!.map((i) => i.id).sort()).toEqual([alice1.id, alice2.id].sort());
  });
});

describe('export', () => {
  it('bundles exactly the person’s own data and no one else’s messages', async () => {
    const view = await privacy.run('export', aliceSubjects());
    expect(view.status).toBe('succeeded');
    expect(view.result.expiresDateTime).toBe(new Date(Date.parse(view.completedDateTime) + 7 * DAY).toISOString());
    const bundle = await privacy.result(view.id);
    expect(bundle.schema).toMatch(/privacy-export\/v1$/);
    // Downloaded as a JSON attachment named after the action and the request, of its exact length.
    const download = await privacy.call('GET', `/privacy/requests/${view.id}/result`);
    expect([download.headers.get('content-type'), download.headers.get('content-disposition'), download.headers.get('content-length')]).toEqual([
      'application/json',
      `attachment; filename="export-${view.id}.json"`,
      String(Buffer.byteLength(download.text)),
    ]);
    const messages = bundle.data.chatMessages as { content: { message: string }; senderCommunicationIdentifier: { rawId: string } }[];
    expect(messages.map((m) => m.content.message).sort()).toEqual([...aliceTexts].sort());
    const text = JSON.stringify(bundle);
    for (const other of otherTexts) expect(text).not.toContain(other);
    expect(bundle.data.identities.map((i: { id: string }) => i.id).sort()).toEqual([alice1.id, alice2.id].sort());
    expect(bundle.data.chatParticipation).toHaveLength(4);
    expect(bundle.data.chatReadReceipts).toHaveLength(2);
    expect(bundle.data.recordings).toHaveLength(1);
    expect(bundle.data.recordings[0].participants.map((p: { participantId: string }) => p.participantId).sort()).toEqual([alice1.id, `4:${alicePhone}`].sort());
    expect(bundle.data.recordings[0].otherParticipants).toBe(1);
    expect(text).not.toContain(bob.id);
    expect(text).not.toContain(carol.id);
    expect(bundle.data.operationLogs.length).toBe(inventoryBefore.counts.operationLog!.found);
  });
});

describe('delete', () => {
  it('erases everything found except held data, leaves others untouched, and issues a receipt whose counts match', async () => {
    const view = await privacy.run('delete', aliceSubjects());
    expect(view.status, JSON.stringify(view)).toBe('succeeded');
    const receipt = (await privacy.call('GET', new URL(view.result.receiptLocation).pathname)).body;
    const before = inventoryBefore.counts;
    expect(receipt.deleted).toEqual({
      identity: 2,
      accessTokens: 2,
      chatMessage: before.chatMessage!.found - 1,
      chatSystemMessage: before.chatSystemMessage!.found - (before.chatSystemMessage!.held ?? 0),
      chatParticipation: 3,
      chatReadReceipt: 2,
      recording: 1,
      operationLog: before.operationLog!.found,
      privacyResult: 2,
      // What the inventory found, and the delete's own removals of her from t1, t2 and t3 (one change each).
      outboxEntry: before.outboxEntry!.found + 3,
    });
    expect(receipt.held).toEqual({ chatMessage: 1, chatSystemMessage: 1, chatParticipation: 1 });
    expect(receipt.holdIds).toEqual([heldThreadHold]);
    expect(receipt.subjects).toHaveLength(4);
    expect(JSON.stringify(receipt)).not.toMatch(/8:acs:|\+1425|example\.com/i);

    // A fresh inventory finds only what the hold keeps.
    const after = await privacy.run('inventory', aliceSubjects());
    inventoryAfterDelete = after.id;
    const listing = (await privacy.result(after.id)) as Listing;
    const unheld = Object.values(listing.data).flat().filter((item) => !item.heldBy);
    expect(unheld).toEqual([]);
    // What is left is exactly alice2's part of the held thread: her participation, the system message naming her, her message.
    const left = Object.values(listing.data).flat();
    expect(left.map((item) => item.kind).sort()).toEqual(['chatMessage', 'chatParticipation', 'chatSystemMessage']);
    for (const item of left) {
      expect(item.heldBy).toEqual([heldThreadHold]);
      expect(item.id.startsWith(threads.held!)).toBe(true);
    }
    expect(listing.counts).toEqual({ chatMessage: { found: 1, held: 1 }, chatSystemMessage: { found: 1, held: 1 }, chatParticipation: { found: 1, held: 1 } });

    // Their tokens are dead; other people's data is as it was.
    await expect(alice1.thread(threads.t1!).listMessages().next()).rejects.toMatchObject({ statusCode: 401 });
    const t1 = await all(bob.thread(threads.t1!).listMessages());
    expect(t1.filter((m) => m.type === 'text').map((m) => m.content?.message)).toEqual(['bob in t1']);
    const t2 = await all(carol.thread(threads.t2!).listMessages());
    expect(t2.filter((m) => m.type === 'text').map((m) => m.content?.message)).toEqual(['carol in t2']);
    const held = await all(bob.thread(threads.held!).listMessages());
    expect(held.filter((m) => m.type === 'text').map((m) => m.content?.message).sort()).toEqual(['alice2 in held', 'bob in held']);
    const recordings = (await privacy.call('GET', '/recordings')).body.value as { id: string }[];
    expect(recordings).toHaveLength(1);
    const metadata = (await privacy.call('GET', `/recordings/${recordings[0]!.id}/metadata`)).body as { participants: { participantId: string }[] };
    expect(metadata.participants.map((p) => p.participantId)).toEqual([bob.id, carol.id]);
    // The finished request keeps the subjects only as hashes.
    const finished = await privacy.status(view.id);
    expect(finished.text).not.toContain(alice1.id);
    expect(finished.body.subjects.hashes).toEqual(receipt.subjects);
  });

  it('keeps receipts listable, and findable by a subject', async () => {
    const all = await privacy.call('GET', '/privacy/receipts');
    expect(all.status).toBe(200);
    expect(all.body.value).toHaveLength(1);
    const bySubject = await privacy.call('GET', `/privacy/receipts?subject=${encodeURIComponent(alicePhone)}`);
    expect(bySubject.body.value.map((r: { id: string }) => r.id)).toEqual([all.body.value[0].id]);
    const other = await privacy.call('GET', `/privacy/receipts?subject=${encodeURIComponent(bob.id)}`);
    expect(other.body.value).toEqual([]);
  });
});

describe('bad requests', () => {
  it('are refused with the ACS error naming the field, and nothing is recorded', async () => {
    const cases: [unknown, string | undefined][] = [
      [{ action: 'forget', subjects: { identityIds: [bob.id] } }, 'action'],
      [{ action: 'delete', subjects: {} }, 'subjects'],
      [{ action: 'delete', subjects: { phoneNumbers: ['0425 555'] } }, 'subjects.phoneNumbers.0'],
      [{ action: 'delete', subjects: { emails: ['not-an-address'] } }, 'subjects.emails.0'],
      [{ action: 'delete', subjects: { identityIds: ['8:acs:00000000-0000-4000-8000-000000000000_x'] } }, 'subjects.identityIds.0'],
      // A key the schema does not know is not a field of it: no target, and the message names the key.
      [{ action: 'delete', subjects: { identityIds: [bob.id] }, extra: 1 }, undefined],
    ];
    const before = (await privacy.call('GET', '/privacy/requests?maxPageSize=100')).body.value.length;
    for (const [body, target] of cases) {
      const response = await privacy.call('POST', '/privacy/requests', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error.code).toBe('ValidationError');
      expect(response.body.error.target).toBe(target);
      expect(response.body.error.message).toContain(target ?? '"extra"');
    }
    expect((await privacy.call('GET', '/privacy/requests?maxPageSize=100')).body.value.length).toBe(before);
    expect((await privacy.call('GET', '/privacy/requests/0123456789abcdef0123456789abcdef')).status).toBe(404);
  });
});

describe('retention of what requests and operations leave', () => {
  it('purges log records after logDays (a held identity’s stay) and results 7 days after completion; receipts stay', async () => {
    const start = clock.now();
    try {
      const hold = await stack.management('POST', `/api/management/resources/${resource.name}/legalHolds`, { target: { kind: 'identity', identityId: bob.id }, reason: 'audit' });
      expect(hold.status).toBe(201);
      const requests = (await privacy.call('GET', '/privacy/requests?maxPageSize=100')).body.value as { id: string; result?: { location?: string } }[];
      // The delete erased the results of the inventory and export before it: only the later inventory's is kept.
      const withResult = requests.filter((r) => r.result?.location);
      expect(withResult.map((r) => r.id)).toEqual([inventoryAfterDelete]);

      const logs = async () => {
        const container = await europe().container('operationLogs');
        const { resources } = await container.items
          .query<{ id: string; subjects: string[]; time: string }>({ query: 'SELECT c.id, c.subjects, c.time FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] })
          .fetchAll();
        return resources;
      };
      const idsOf = (records: { id: string }[]) => records.map((r) => r.id).sort();
      const exportBlobs = async () => {
        const names: string[] = [];
        for await (const blob of (await europe().blobContainer('exports')).listBlobsFlat({ prefix: `${resource.id}/` })) names.push(blob.name);
        return names;
      };
      const logsBefore = await logs();
      expect(logsBefore.some((r) => !r.subjects.includes(bob.id))).toBe(true);
      // Every record so far was written at the start time (the clock has not moved yet).
      expect(logsBefore.filter((r) => r.time !== start.toISOString())).toEqual([]);
      expect(await exportBlobs()).toHaveLength(1);

      clock.advance(8 * DAY);
      const run = async () => {
        const response = await fetch(`${stack.httpUrl}/admin/functions/chatRetentionPurge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
        expect(response.status).toBe(202);
        await stack.idle();
      };
      await run();
      expect(await exportBlobs()).toEqual([]);
      expect((await privacy.call('GET', `/privacy/requests/${withResult[0]!.id}/result`)).status).toBe(404);
      expect((await privacy.call('GET', `/privacy/requests/${withResult[0]!.id}`)).status).toBe(404);
      const logsAfter8Days = await logs();
      expect(logsAfter8Days.some((r) => !r.subjects.includes(bob.id))).toBe(true);
      // Nothing is 30 days old yet: every record is still there, with the two just written (the two 404s above).
      const writtenAt8Days = logsAfter8Days.filter((r) => r.time === clock.now().toISOString());
      expect(writtenAt8Days).toHaveLength(2);
      expect(idsOf(logsAfter8Days)).toEqual(idsOf([...logsBefore, ...writtenAt8Days]));

      clock.advance(23 * DAY);
      await run();
      const remaining = await logs();
      // Only records naming bob (held) are older than 30 days and left; the requests at 8 days wrote new ones.
      const old = remaining.filter((r) => r.subjects.length > 0);
      expect(old.every((r) => r.subjects.includes(bob.id))).toBe(true);
      const bobsOld = logsBefore.filter((r) => r.subjects.includes(bob.id));
      // His identity, his two messages, his read receipt, the recording of him and carol, his two listings after the
      // delete (the records that also named alice went with her data).
      expect(bobsOld).toHaveLength(7);
      expect(idsOf(remaining)).toEqual(idsOf([...bobsOld, ...writtenAt8Days]));
      expect((await privacy.call('GET', '/privacy/receipts')).body.value).toHaveLength(1);
    } finally {
      clock.set(start);
    }
  });
});

describe('erasure receipts', () => {
  it('pages receipts newest first: a full page links to the next, from after its last receipt, and the last page links to none', async () => {
    // A second erasure (of a number nothing names), a second later, gives a second receipt.
    clock.advance(1000);
    expect((await privacy.run('delete', { phoneNumbers: ['+14255550100'] })).status).toBe('succeeded');
    const all = (await privacy.call('GET', '/privacy/receipts')).body.value as { id: string }[];
    expect(all).toHaveLength(2);
    const first = await privacy.call('GET', '/privacy/receipts?maxPageSize=1');
    expect(first.body.value.map((r: { id: string }) => r.id)).toEqual([all[0]!.id]);
    const next = new URL(first.body.nextLink as string);
    expect(next.searchParams.get('skipToken')).toBe(first.body.value[0].completedAt);
    const second = await privacy.call('GET', `${next.pathname}${next.search}`);
    expect(second.body.value.map((r: { id: string }) => r.id)).toEqual([all[1]!.id]);
    expect(second.body).not.toHaveProperty('nextLink');
  });
});
