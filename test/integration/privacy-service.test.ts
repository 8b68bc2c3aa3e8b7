import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import type { ErasureReceipt } from '../../shared/privacy/erasure-receipt.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import { PHASES } from '../../shared/privacy/request-phases.js';
import { PrivacyService, type PrivacyServiceDeps } from '../../shared/privacy/privacy-service.js';
import type { PrivacyRequestBody } from '../../shared/privacy/privacy-subjects.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import type { GeoStore } from '../../shared/stores/geo-store.js';
import { forward } from '../support/forward.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The privacy service's own rules on the stack's stores, called directly with a clock of its own:
 * who may be a subject, repeatability, reading a request, a result or a receipt (and every way each is
 * not found), pages newest first, receipts found by a subject however it is written, the slices and
 * the worker run, and the purge of finished requests at their expiry. The stack's planner, purges and
 * outbox republisher are off.
 */
const NEVER = '0 0 0 1 1 *';
const DAY_MS = 86_400_000;
const clock = new ManualClock('2026-12-03T10:00:00.000Z');
const at = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();

let stack: TestStack;
let resource: Resource;
let service: PrivacyService;
let geo: GeoStore;

beforeAll(async () => {
  stack = await startTestStack({ env: { PRIVACY_WORKER_SCHEDULE: NEVER, RETENTION_PURGE_SCHEDULE: NEVER, RECORDING_PURGE_SCHEDULE: NEVER, OUTBOX_REPUBLISH_SCHEDULE: NEVER } });
  await stack.createResource('privacy-service', 'Europe');
  resource = (await services().resources.get('privacy-service'))!;
  service = new PrivacyService({ ...(services().privacy as unknown as { deps: PrivacyServiceDeps }).deps, clock });
  geo = services().stores.forResource(resource);
});
afterAll(async () => stack?.stop());

const body = (action: PrivacyRequestBody['action'], emails: string[], identityIds: string[] = []): PrivacyRequestBody => ({ action, subjects: { identityIds, phoneNumbers: [], emails } });
const requestsContainer = () => geo.container('privacyRequests');
async function rewrite(request: PrivacyRequestRecord, changes: Partial<PrivacyRequestRecord>, on: GeoStore = geo): Promise<PrivacyRequestRecord> {
  const container = await on.container('privacyRequests');
  const { resource: current } = await container.item(request.id, request.resourceId).read<PrivacyRequestRecord>();
  const { _etag, ...rest } = current!;
  return (await container.item(request.id, request.resourceId).replace<PrivacyRequestRecord>({ ...rest, ...changes })).resource!;
}
const refusal = (code: string, message: string, target: string) => expect.objectContaining({ code, message, target });
const leaseMs = () => (services().privacy as unknown as { deps: PrivacyServiceDeps }).deps.leaseMs;

/** The stores, whose item creations in every container fail with a store error of this status. */
function refusingCreates(stores: PrivacyServiceDeps['stores'], code: number): PrivacyServiceDeps['stores'] {
  const items = <T extends object>(target: T) => new Proxy(target, { get: (t, p) => (p === 'create' ? async () => Promise.reject(Object.assign(new Error(`injected ${code}`), { code })) : forward(t, p)) });
  const container = <T extends { items: object }>(target: T) => new Proxy(target, { get: (t, p) => (p === 'items' ? items(t.items) : forward(t, p)) });
  const geo = (target: GeoStore) => new Proxy(target, { get: (t, p) => (p === 'container' ? async (name: Parameters<GeoStore['container']>[0]) => container(await t.container(name)) : forward(t, p)) });
  return new Proxy(stores, { get: (t, p) => (p === 'forResource' ? (of: Resource) => geo(t.forResource(of)) : forward(t, p)) });
}

describe('submitting', () => {
  it("refuses an identity of another resource, naming its place in the list, and stores nothing", async () => {
    const before = (await service.list(resource, { maxPageSize: 100 })).requests.length;
    const other = `8:acs:${'0'.repeat(8)}-0000-0000-0000-000000000000_x`;
    const own = (await services().identities.create(resource, {})).identity.id;
    await expect(service.submit(resource, body('inventory', [], [own, other]))).rejects.toEqual(
      refusal('ValidationError', 'subjects.identityIds.1: the identity does not belong to this resource.', 'subjects.identityIds.1'),
    );
    expect((await service.list(resource, { maxPageSize: 100 })).requests).toHaveLength(before);
  });

  it('answers a repeated request with the first one, and refuses the same id for another action or other subjects', async () => {
    const first = await service.submit(resource, body('export', ['a@contoso.example']), 'repeat-1');
    expect(first.created).toBe(true);
    expect(first.request.repeatabilityId).toBe('repeat-1');
    expect(first.request.id).toMatch(/^[0-9a-f]{32}$/);
    const again = await service.submit(resource, body('export', ['A@Contoso.example ']), 'repeat-1');
    expect(again).toEqual({ request: expect.objectContaining({ id: first.request.id, _etag: first.request._etag }), created: false });
    const conflict = refusal('Conflict', 'This repeatability-request-id was used for a different request.', 'repeatability-request-id');
    await expect(service.submit(resource, body('inventory', ['a@contoso.example']), 'repeat-1')).rejects.toEqual(conflict);
    await expect(service.submit(resource, body('export', ['b@contoso.example']), 'repeat-1')).rejects.toEqual(conflict);
    // Another id, or none, is another request.
    const other = await service.submit(resource, body('export', ['a@contoso.example']), 'repeat-2');
    const plain = [await service.submit(resource, body('export', ['a@contoso.example'])), await service.submit(resource, body('export', ['a@contoso.example']))];
    expect(new Set([first.request.id, other.request.id, ...plain.map((p) => p.request.id)]).size).toBe(4);
    expect(plain.map((p) => p.created)).toEqual([true, true]);
  });

  it('passes on a store error other than a conflict, and stores nothing', async () => {
    const deps = (services().privacy as unknown as { deps: PrivacyServiceDeps }).deps;
    const refusing = refusingCreates(deps.stores, 503);
    const failing = new PrivacyService({ ...deps, clock, stores: refusing });
    await expect(failing.submit(resource, body('inventory', ['r@contoso.example']), 'repeat-503')).rejects.toMatchObject({ code: 503 });
    await expect(service.get(resource, (await service.submit(resource, body('inventory', ['s@contoso.example']), 'repeat-503')).request.id)).resolves.toMatchObject({ subjects: { emails: ['s@contoso.example'] } });
  });

  it('stores the request waiting, with the subjects in clear and as keyed hashes, at the time of submission', async () => {
    const { request } = await service.submit(resource, body('delete', ['Alice@Contoso.example']));
    expect(request).toMatchObject({
      resourceId: resource.id,
      kind: 'privacyRequest',
      action: 'delete',
      status: 'notStarted',
      subjects: { identityIds: [], phoneNumbers: [], emails: ['alice@contoso.example'] },
      createdAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
      lease: null,
      phase: 0,
      cursor: null,
      inFlight: null,
      rounds: 0,
      counts: {},
      holdIds: [],
      bundle: null,
      result: null,
      error: null,
      expiresAt: null,
    });
    expect(request.subjectHashes).toHaveLength(1);
    expect(request.subjectHashes[0]).toMatch(/^sh:[A-Za-z0-9_-]{32}$/);
    expect(request).not.toHaveProperty('repeatabilityId');
  });
});

describe('reading', () => {
  it('finds a request until its expiry and not from it; an id of the wrong shape or kind is not found, named to 64 characters', async () => {
    const { request } = await service.submit(resource, body('inventory', ['c@contoso.example']));
    await rewrite(request, { status: 'succeeded', expiresAt: at(1) });
    expect((await service.get(resource, request.id)).id).toBe(request.id);
    expect((await service.list(resource, { maxPageSize: 100 })).requests.map((r) => r.id)).toContain(request.id);
    await rewrite(request, { expiresAt: at(0) });
    await expect(service.get(resource, request.id)).rejects.toEqual(refusal('NotFound', `Privacy request '${request.id}' was not found.`, 'requestId'));
    expect((await service.list(resource, { maxPageSize: 100 })).requests.map((r) => r.id)).not.toContain(request.id);

    const long = 'x'.repeat(100);
    await expect(service.get(resource, long)).rejects.toEqual(refusal('NotFound', `Privacy request '${'x'.repeat(64)}' was not found.`, 'requestId'));
    for (const id of [`${request.id}0`, `${request.id}#x`, `x/${request.id}`, `${request.id}/x`]) await expect(service.get(resource, id)).rejects.toMatchObject({ code: 'NotFound', target: 'requestId' });
    const receiptLike = { id: 'f'.repeat(32), resourceId: resource.id, kind: 'erasureReceipt' };
    await (await requestsContainer()).items.upsert(receiptLike);
    await expect(service.get(resource, receiptLike.id)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('lists newest first, a page at a time: more while there is more, and the page before a time', async () => {
    const other = await stack.createResource('privacy-service-list', 'Europe');
    const listed = (await services().resources.get(other.name))!;
    const made: PrivacyRequestRecord[] = [];
    for (let i = 0; i < 3; i += 1) {
      const { request } = await service.submit(listed, body('inventory', [`p${i}@contoso.example`]));
      made.push(await rewrite(request, { createdAt: `2026-12-0${i + 1}T00:00:00.000Z` }));
    }
    const ids = (page: { requests: PrivacyRequestRecord[]; more: boolean }) => [page.requests.map((r) => made.indexOf(made.find((m) => m.id === r.id)!)), page.more];
    expect(ids(await service.list(listed, { maxPageSize: 2 }))).toEqual([[2, 1], true]);
    expect(ids(await service.list(listed, { maxPageSize: 3 }))).toEqual([[2, 1, 0], false]);
    expect(ids(await service.list(listed, { maxPageSize: 2, before: '2026-12-02T00:00:00.000Z' }))).toEqual([[0], false]);
  });

  it("answers a result only once there is one, and names the download after the action and request", async () => {
    const { request } = await service.submit(resource, body('export', ['d@contoso.example']));
    await expect(service.result(resource, request.id)).rejects.toEqual(refusal('NotFound', 'The request has not finished yet.', 'requestId'));
    // A result document being written is not served before the request has succeeded.
    await rewrite(request, { status: 'running', result: { blobName: `${resource.id}/${request.id}.json` } });
    await expect(service.result(resource, request.id)).rejects.toEqual(refusal('NotFound', 'The request has not finished yet.', 'requestId'));
    await rewrite(request, { status: 'succeeded', result: { receiptId: 'r' } });
    await expect(service.result(resource, request.id)).rejects.toEqual(refusal('NotFound', 'This request has no result document.', 'requestId'));
    const blobName = `${resource.id}/${request.id}.json`;
    await rewrite(request, { result: { blobName, bytes: 9 } });
    await expect(service.result(resource, request.id)).rejects.toEqual(refusal('NotFound', 'The result document is no longer available.', 'requestId'));
    await (await geo.blobContainer('exports')).getBlockBlobClient(blobName).upload('{"a":"b"}', 9);
    const result = await service.result(resource, request.id);
    expect({ length: result.length, name: result.name }).toEqual({ length: 9, name: `export-${request.id}.json` });
    const chunks: Buffer[] = [];
    for await (const chunk of result.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString('utf8')).toBe('{"a":"b"}');
  });

  it('finds receipts by a subject however it is written, newest first, and a receipt by its id only', async () => {
    const other = await stack.createResource('privacy-service-receipts', 'Europe');
    const of = (await services().resources.get(other.name))!;
    const hash = (key: string) => {
      // The hash the service files a subject under: the request's own, for a request naming that subject alone.
      return service.submit(of, { action: 'inventory', subjects: key.startsWith('+') ? { identityIds: [], phoneNumbers: [key], emails: [] } : { identityIds: [], phoneNumbers: [], emails: [key] } });
    };
    const phone = (await hash('+15551234567')).request.subjectHashes[0]!;
    const mail = (await hash('eve@contoso.example')).request.subjectHashes[0]!;
    const receipts = await geo.container('erasureReceipts');
    const receipt = (id: string, completedAt: string, subjects: string[]): ErasureReceipt => ({ id, resourceId: of.id, kind: 'erasureReceipt', requestId: id, completedAt, subjects, deleted: {}, held: {}, holdIds: [] }) as unknown as ErasureReceipt;
    await receipts.items.upsert(receipt('a'.repeat(32), '2026-12-01T00:00:00.000Z', [phone]));
    await receipts.items.upsert(receipt('b'.repeat(32), '2026-12-02T00:00:00.000Z', [phone, mail]));
    await receipts.items.upsert(receipt('c'.repeat(32), '2026-12-03T00:00:00.000Z', [mail]));
    const ids = (page: { receipts: ErasureReceipt[]; more: boolean }) => [page.receipts.map((r) => r.id[0]), page.more];
    expect(ids(await service.receipts(of, { maxPageSize: 10 }))).toEqual([['c', 'b', 'a'], false]);
    expect(ids(await service.receipts(of, { maxPageSize: 10, subject: ' +15551234567 ' }))).toEqual([['b', 'a'], false]);
    expect(ids(await service.receipts(of, { maxPageSize: 1, subject: 'EVE@contoso.EXAMPLE' }))).toEqual([['c'], true]);
    expect(ids(await service.receipts(of, { maxPageSize: 10, subject: 'eve@contoso.example', before: '2026-12-03T00:00:00.000Z' }))).toEqual([['b'], false]);
    expect(ids(await service.receipts(of, { maxPageSize: 10, subject: '+1555123456' }))).toEqual([[], false]);

    expect((await service.receipt(of, 'b'.repeat(32))).completedAt).toBe('2026-12-02T00:00:00.000Z');
    const missing = (id: string) => refusal('NotFound', `Erasure receipt '${id.slice(0, 64)}' was not found.`, 'receiptId');
    await expect(service.receipt(of, 'd'.repeat(32))).rejects.toEqual(missing('d'.repeat(32)));
    await expect(service.receipt(of, 'B'.repeat(32))).rejects.toEqual(missing('B'.repeat(32)));
    await expect(service.receipt(of, 'z'.repeat(80))).rejects.toEqual(missing('z'.repeat(80)));
    for (const id of [`${'b'.repeat(32)}#x`, `x/${'b'.repeat(32)}`, `${'b'.repeat(32)}/x`]) await expect(service.receipt(of, id)).rejects.toEqual(missing(id));
    const notReceipt = (await service.submit(of, body('inventory', ['q@contoso.example']))).request;
    await (await geo.container('erasureReceipts')).items.upsert({ id: notReceipt.id, resourceId: of.id, kind: 'privacyRequest' });
    await expect(service.receipt(of, notReceipt.id)).rejects.toEqual(missing(notReceipt.id));
  });
});

describe('working', () => {
  it("a slice of a request that ended, or that is gone, is 'gone' and changes nothing", async () => {
    const ticket = { ticket: 't1', nextTicket: 't2', maxSteps: 5, deadline: Date.now() + 60_000 };
    for (const status of ['succeeded', 'failed'] as const) {
      const { request } = await service.submit(resource, body('inventory', ['g@contoso.example']));
      const ended = await rewrite(request, { status });
      expect(await service.runSlice(geo, request.id, resource.id, ticket)).toBe('gone');
      expect((await (await requestsContainer()).item(request.id, resource.id).read<PrivacyRequestRecord>()).resource!._etag).toBe(ended._etag);
    }
    expect(await service.runSlice(geo, '0'.repeat(32), resource.id, ticket)).toBe('gone');
    const notRequest = { id: '1'.repeat(32), resourceId: resource.id, kind: 'somethingElse', status: 'running' };
    await (await requestsContainer()).items.upsert(notRequest);
    expect(await service.runSlice(geo, notRequest.id, resource.id, ticket)).toBe('gone');
    expect((await (await requestsContainer()).item(notRequest.id, resource.id).read()).resource).toMatchObject(notRequest);
    const claimed = (await service.submit(resource, body('inventory', ['k@contoso.example']))).request;
    expect(await service.claim(geo, claimed, 'planner-ticket')).toBe(true);
    expect((await service.get(resource, claimed.id)).lease).toEqual({ owner: 'planner-ticket', until: at(leaseMs()) });
    expect(await service.claim(geo, claimed, 'other-ticket')).toBe(false);
    const { request } = await service.submit(resource, body('inventory', ['h@contoso.example']));
    expect(await service.runSlice(geo, request.id, resource.id, { ...ticket, maxSteps: 1 })).toBe('handedOff');
    expect((await service.get(resource, request.id)).lease).toEqual({ owner: 't2', until: at(leaseMs()) });
  });
});

describe('a worker run over a geography', () => {
  it('works each due request, skipping those leased by another, and counts how each ended; none once past its deadline', async () => {
    const australia = await stack.createResource('privacy-service-work', 'Australia');
    const of = (await services().resources.get(australia.name))!;
    const au = services().stores.forResource(of);
    const container = await au.container('privacyRequests');
    const made = async (action: PrivacyRequestBody['action'], changes: Partial<PrivacyRequestRecord>, subjects = body(action, [`w${Math.random()}@contoso.example`])) =>
      rewrite((await service.submit(of, subjects)).request, changes, au);
    const finishing = [
      await made('inventory', { status: 'running', phase: PHASES.inventory.length, createdAt: '2026-12-01T00:00:00.000Z' }),
      await made('export', { status: 'running', phase: PHASES.export.length, createdAt: '2026-12-01T00:00:01.000Z' }),
      await made('inventory', { status: 'running', phase: PHASES.inventory.length, createdAt: '2026-12-01T00:00:01.500Z' }),
    ];
    const leased = await made('inventory', { lease: { owner: 'someone', until: at(60_000) }, createdAt: '2026-12-01T00:00:02.000Z' });
    // A delete that must wait for an event naming its subject to be published.
    const { identity } = await services().identities.create(of, {});
    await (await au.container('outbox')).items.create({ id: `pending-${identity.id}`, resourceId: of.id, kind: 'outboxEntry', status: 'pending', subjects: [identity.id], events: [] });
    const outboxPhase = PHASES.delete.findIndex((source) => source.name === 'outboxEvents');
    const waiting = await made('delete', { status: 'running', phase: outboxPhase, createdAt: '2026-12-01T00:00:03.000Z' }, body('delete', [], [identity.id]));
    // A request of a resource that no longer exists fails.
    const { _etag, ...orphan } = { ...(await service.submit(of, body('export', ['w3@contoso.example']))).request, id: 'e'.repeat(32), resourceId: 'gone-resource', createdAt: '2026-12-01T00:00:04.000Z' };
    await container.items.create(orphan);
    const kept = new Set([...finishing, leased, waiting, orphan].map((r) => r.id));
    for (const request of (await container.items.query<PrivacyRequestRecord>("SELECT * FROM c WHERE c.status = 'notStarted'").fetchAll()).resources) {
      if (!kept.has(request.id)) await container.item(request.id, request.resourceId).delete();
    }

    expect(await service.work(au, Date.now() - 1)).toEqual({ requests: 0, finished: 0, failed: 0, waiting: 0 });
    expect(await service.work(au, Date.now() + 60_000)).toEqual({ requests: 5, finished: 3, failed: 1, waiting: 1 });
    const status = async (r: { id: string; resourceId: string }) => (await container.item(r.id, r.resourceId).read<PrivacyRequestRecord>()).resource!.status;
    expect(await Promise.all([...finishing, waiting, orphan, leased].map(status))).toEqual(['succeeded', 'succeeded', 'succeeded', 'running', 'failed', 'notStarted']);
  });
});

describe('purging finished requests', () => {
  it('deletes those whose expiry has come, with their result documents and snapshots, at most the number asked, and says whether more are left', async () => {
    const japan = await stack.createResource('privacy-service-purge', 'Japan');
    const of = (await services().resources.get(japan.name))!;
    const jp = services().stores.forResource(of);
    const exportsContainer = await jp.blobContainer('exports');
    const made: PrivacyRequestRecord[] = [];
    // Expired a day ago with a document (and a snapshot of it), expired now with a receipt, expired now
    // without a result (a failed request), expiring in a millisecond with a document, still running.
    const cases: [string | null, 'document' | 'receipt' | 'none'][] = [
      [at(-DAY_MS), 'document'],
      [at(0), 'receipt'],
      [at(0), 'none'],
      [at(1), 'document'],
      [null, 'document'],
    ];
    for (const [i, [expiresAt, result]] of cases.entries()) {
      const { request } = await service.submit(of, body('export', [`x${i}@contoso.example`]));
      const blobName = `${of.id}/${request.id}.json`;
      if (result === 'document') await exportsContainer.getBlockBlobClient(blobName).upload('{}', 2);
      if (i === 0) await exportsContainer.getBlockBlobClient(blobName).createSnapshot();
      const stored = result === 'document' ? { blobName } : result === 'receipt' ? { receiptId: 'r' } : null;
      made.push(await rewrite(request, { status: expiresAt ? 'succeeded' : 'running', expiresAt, result: stored }, jp));
    }
    const container = await jp.container('privacyRequests');
    const live = async () => Promise.all(made.map(async (r) => (await container.item(r.id, r.resourceId).read()).resource !== undefined));
    const blobs = async () => {
      const names: string[] = [];
      for await (const blob of exportsContainer.listBlobsFlat({ prefix: `${of.id}/`, includeSnapshots: true })) names.push(blob.name);
      return made.map((r) => names.filter((name) => name === `${of.id}/${r.id}.json`).length);
    };
    expect(await blobs()).toEqual([2, 0, 0, 1, 1]);
    const first = await service.purgeExpired(jp, { maxItems: 1 });
    expect({ requests: first.requests, more: first.more }).toEqual({ requests: 1, more: true });
    // Exactly as many expired as asked for: none left after them.
    const second = await service.purgeExpired(jp, { maxItems: 2 });
    expect({ requests: second.requests, results: first.results + second.results, more: second.more }).toEqual({ requests: 2, results: 1, more: false });
    expect(await live()).toEqual([false, false, false, true, true]);
    expect(await blobs()).toEqual([0, 0, 0, 1, 1]);
    expect(await service.purgeExpired(jp, { maxItems: 5 })).toEqual({ requests: 0, results: 0, more: false });
    clock.advance(1);
    try {
      expect(await service.purgeExpired(jp, { maxItems: 5 })).toEqual({ requests: 1, results: 1, more: false });
      expect(await live()).toEqual([false, false, false, false, true]);
      expect(await blobs()).toEqual([0, 0, 0, 0, 1]);
    } finally {
      clock.advance(-1);
    }
  });
});
