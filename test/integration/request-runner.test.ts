import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import type { PrivacyAction } from '../../shared/privacy/privacy-subjects.js';
import { EXPORT_SECTIONS, PHASES } from '../../shared/privacy/request-phases.js';
import { PrivacyRequestRunner, type PrivacyRunnerDeps } from '../../shared/privacy/request-runner.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import type { GeoStore } from '../../shared/stores/geo-store.js';
import { capturedLogger } from '../support/captured-logger.js';
import { forward } from '../support/forward.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The privacy request runner on the stack's stores, driven one call at a time with a clock of its own:
 * leases (whose, until when, taken over at their end), slices handed off or paused, the deadline, a
 * resource gone, failed runs counted to the tenth, a lease lost half-way, delete rounds, and what a
 * finished request keeps, a delete waiting for events, and store errors passed on. The stack's planner,
 * purges and outbox republisher are off, so nothing else touches the requests.
 */
const NEVER = '0 0 0 1 1 *';
const LEASE_MS = 120_000;
const DAY_MS = 86_400_000;
const clock = new ManualClock('2026-12-03T10:00:00.000Z');
const later = (ms: number) => new Date(clock.now().getTime() + ms).toISOString();
const far = () => Date.now() + 60_000;

let stack: TestStack;
let resource: Resource;
const europe = (): GeoStore => services().stores.forGeography(geographyByKey('europe'));

beforeAll(async () => {
  stack = await startTestStack({ env: { PRIVACY_WORKER_SCHEDULE: NEVER, RETENTION_PURGE_SCHEDULE: NEVER, RECORDING_PURGE_SCHEDULE: NEVER, OUTBOX_REPUBLISH_SCHEDULE: NEVER } });
  await stack.createResource('request-runner', 'Europe');
  await stack.createResource('request-runner-due', 'Japan');
  resource = (await services().resources.get('request-runner'))!;
});
afterAll(async () => stack?.stop());

/** A runner for `owner` with the service's own dependencies, this file's clock and a captured log. */
function runnerOf(owner: string, overrides: Partial<PrivacyRunnerDeps> = {}) {
  const { logger, lines } = capturedLogger();
  const deps = (services().privacy as unknown as { deps: PrivacyRunnerDeps }).deps;
  return { runner: new PrivacyRequestRunner({ ...deps, clock, logger, leaseMs: LEASE_MS, ...overrides }, owner), lines };
}

async function submitted(action: PrivacyAction, subjects: { identityIds?: string[]; emails?: string[] } = {}, of: Resource = resource): Promise<PrivacyRequestRecord> {
  const body = { action, subjects: { identityIds: subjects.identityIds ?? [], phoneNumbers: [], emails: subjects.emails ?? ['nobody@contoso.example'] } };
  return (await services().privacy.submit(of, body)).request;
}

const requests = async (geo: GeoStore = europe()) => geo.container('privacyRequests');
async function stored(request: PrivacyRequestRecord, geo?: GeoStore): Promise<PrivacyRequestRecord> {
  return (await (await requests(geo)).item(request.id, request.resourceId).read<PrivacyRequestRecord>()).resource!;
}
/** Rewrites the stored request with `changes` (as another worker would), and answers it as stored. */
async function rewrite(request: PrivacyRequestRecord, changes: Partial<PrivacyRequestRecord>, geo?: GeoStore): Promise<PrivacyRequestRecord> {
  const { _etag, ...current } = await stored(request, geo);
  return (await (await requests(geo)).item(request.id, request.resourceId).replace<PrivacyRequestRecord>({ ...current, ...changes })).resource!;
}

describe('leases', () => {
  it('a request leased by another worker is busy until the lease ends, and is not written; at its end it is taken over', async () => {
    const { runner } = runnerOf('worker-a');
    const leased = await rewrite(await submitted('inventory'), { lease: { owner: 'worker-b', until: later(1) } });
    expect(await runner.run(europe(), leased, far(), { maxSteps: 0 })).toBe('busy');
    expect((await stored(leased))._etag).toBe(leased._etag);

    const ending = await rewrite(leased, { lease: { owner: 'worker-b', until: later(0) } });
    expect(await runner.run(europe(), ending, far(), { maxSteps: 0 })).toBe('paused');
    const taken = await stored(ending);
    expect(taken).toMatchObject({ status: 'running', startedAt: clock.now().toISOString(), updatedAt: clock.now().toISOString(), lease: null, phase: 0 });
    expect(taken).not.toHaveProperty('failures');
  });

  it("a worker's own lease does not keep it out, and a request started before keeps its first start", async () => {
    const { runner } = runnerOf('worker-a');
    const own = await rewrite(await submitted('inventory'), { status: 'running', startedAt: '2026-12-01T00:00:00.000Z', lease: { owner: 'worker-a', until: later(60_000) } });
    expect(await runner.run(europe(), own, far(), { maxSteps: 0 })).toBe('paused');
    expect(await stored(own)).toMatchObject({ status: 'running', startedAt: '2026-12-01T00:00:00.000Z', lease: null });
  });

  it('a request written by someone else since it was read is busy for run and false for claim; a fresh one is claimed for the owner', async () => {
    const { runner } = runnerOf('ticket-1');
    const read = await submitted('inventory');
    await rewrite(read, { updatedAt: '2026-12-02T00:00:00.000Z' });
    expect(await runner.run(europe(), read, far(), { maxSteps: 0 })).toBe('busy');
    expect(await runner.claim(europe(), read)).toBe(false);
    expect(await runner.claim(europe(), await stored(read))).toBe(true);
    expect((await stored(read)).lease).toEqual({ owner: 'ticket-1', until: later(LEASE_MS) });
  });

  it('every checkpoint renews the lease to the lease time from now; a slice hands it to the next ticket, or releases it', async () => {
    const checkpoints: PrivacyRequestRecord[] = [];
    const { runner } = runnerOf('ticket-1', { afterCheckpoint: async (saved) => void checkpoints.push(saved) });
    const request = await submitted('inventory');
    expect(await runner.run(europe(), request, far(), { maxSteps: 2, handOffTo: 'ticket-2' })).toBe('handedOff');
    expect(checkpoints.map((c) => [c.phase, c.lease])).toEqual([
      [1, { owner: 'ticket-1', until: later(LEASE_MS) }],
      [2, { owner: 'ticket-1', until: later(LEASE_MS) }],
    ]);
    expect(await stored(request)).toMatchObject({ phase: 2, lease: { owner: 'ticket-2', until: later(LEASE_MS) } });

    const { runner: next } = runnerOf('ticket-2');
    expect(await next.run(europe(), await stored(request), far(), { maxSteps: 1 })).toBe('paused');
    expect(await stored(request)).toMatchObject({ phase: 3, lease: null });
  });

  it('past its deadline a run takes no step and releases the request', async () => {
    const { runner } = runnerOf('worker-a');
    const request = await submitted('inventory');
    expect(await runner.run(europe(), request, Date.now() - 1)).toBe('paused');
    expect(await stored(request)).toMatchObject({ status: 'running', phase: 0, lease: null });
  });

  it('a lease lost half-way (another worker wrote between two checkpoints) ends the run as lost, with nothing counted as failed', async () => {
    let writes = 0;
    const { runner, lines } = runnerOf('worker-a', {
      afterCheckpoint: async (saved) => {
        if ((writes += 1) === 1) await rewrite(saved, { lease: { owner: 'worker-b', until: later(LEASE_MS) } });
      },
    });
    const request = await submitted('inventory');
    expect(await runner.run(europe(), request, far())).toBe('lost');
    expect(await stored(request)).toMatchObject({ phase: 1, lease: { owner: 'worker-b' }, failures: 0 });
    expect(lines).toEqual([]);
  });
});

describe('a resource gone', () => {
  it.each([
    ['deleted', async () => undefined],
    ['being deleted', async () => ({ ...resource, state: 'deleting' }) as Resource],
  ])('%s: the request fails with NotFound, drops its subjects and is kept 7 days', async (_, resourceById) => {
    const { runner } = runnerOf('worker-a', { resourceById });
    const request = await submitted('export');
    expect(await runner.run(europe(), request, far())).toBe('failed');
    expect(await stored(request)).toMatchObject({
      status: 'failed',
      error: { code: 'NotFound', message: 'The resource was deleted before the request completed.' },
      subjects: null,
      completedAt: clock.now().toISOString(),
      expiresAt: later(7 * DAY_MS),
      lease: null,
      cursor: null,
      inFlight: null,
      bundle: null,
      result: null,
    });
  });
});

describe('failed runs', () => {
  const failing = (error: unknown) => runnerOf('worker-a', { context: async () => Promise.reject(error) });

  it('are counted, the last reason kept to 300 characters and logged whole, and the lease released', async () => {
    const { runner, lines } = failing(new TypeError('x'.repeat(400)));
    const request = await submitted('inventory');
    expect(await runner.run(europe(), request, far())).toBe('paused');
    expect(await stored(request)).toMatchObject({ status: 'running', failures: 1, lastFailure: 'x'.repeat(300), lease: null });
    expect(lines).toEqual([{ level: 'error', event: 'privacy.request_failed', resourceId: resource.id, errorName: 'TypeError', detail: 'x'.repeat(400) }]);

    const { runner: again, lines: thrown } = failing('not an Error');
    expect(await again.run(europe(), await stored(request), far())).toBe('paused');
    expect(await stored(request)).toMatchObject({ failures: 2, lastFailure: 'not an Error' });
    expect(thrown).toEqual([{ level: 'error', event: 'privacy.request_failed', resourceId: resource.id, errorName: 'string', detail: 'not an Error' }]);
  });

  it('the 10th in a row fails the request, the 9th does not; a checkpoint in between starts the count again', async () => {
    const { runner } = failing(new Error('store unavailable'));
    const request = await rewrite(await submitted('inventory'), { failures: 8 });
    expect(await runner.run(europe(), request, far())).toBe('paused');
    expect(await stored(request)).toMatchObject({ status: 'running', failures: 9 });

    const { runner: working } = runnerOf('worker-a');
    expect(await working.run(europe(), await stored(request), far(), { maxSteps: 1 })).toBe('paused');
    expect(await stored(request)).toMatchObject({ failures: 0, phase: 1 });

    const nine = await rewrite(request, { failures: 9 });
    const { runner: tenth } = failing(new Error(`store unavailable ${'y'.repeat(400)}`));
    expect(await tenth.run(europe(), nine, far())).toBe('failed');
    expect(await stored(request)).toMatchObject({
      status: 'failed',
      failures: 10,
      lastFailure: `store unavailable ${'y'.repeat(300 - 'store unavailable '.length)}`,
      error: { code: 'InternalError', message: 'The request failed 10 times in a row.' },
      subjects: null,
      completedAt: clock.now().toISOString(),
      expiresAt: later(7 * DAY_MS),
      lease: null,
    });
  });

  it.each([
    ['took the request over', { owner: 'worker-b', until: later(LEASE_MS) }],
    ['released it', null],
  ])('a failure after another worker %s is lost, and counts nothing', async (_, lease) => {
    const request = await submitted('inventory');
    const { runner, lines } = runnerOf('worker-a', {
      context: async () => {
        await rewrite(request, { lease });
        throw new Error('late');
      },
    });
    expect(await runner.run(europe(), request, far())).toBe('lost');
    const after = await stored(request);
    expect(after.failures).toBeUndefined();
    expect(after.lease).toEqual(lease);
    expect(lines).toHaveLength(1);
  });
});

describe('delete rounds', () => {
  const end = PHASES.delete.length;

  it('a pass that erased something walks everything again, up to the third round; then, or after a pass that erased nothing, it finishes', async () => {
    const { runner } = runnerOf('worker-a');
    const again = await rewrite(await submitted('delete'), { status: 'running', phase: end, rounds: 2, erasedThisRound: 1, cursor: { after: 'x' } });
    expect(await runner.run(europe(), again, far(), { maxSteps: 1 })).toBe('paused');
    expect(await stored(again)).toMatchObject({ status: 'running', phase: 0, rounds: 3, erasedThisRound: 0, cursor: null });

    for (const [rounds, erasedThisRound] of [
      [3, 1],
      [0, 0],
    ]) {
      const last = await rewrite(await submitted('delete'), { status: 'running', phase: end, rounds, erasedThisRound });
      expect(await runner.run(europe(), last, far(), { maxSteps: 1 })).toBe('finished');
      const done = await stored(last);
      expect(done).toMatchObject({ status: 'succeeded', rounds, subjects: null, completedAt: clock.now().toISOString(), expiresAt: later(7 * DAY_MS), lease: null });
      const { resource: receipt } = await (await europe().container('erasureReceipts')).item(done.result!.receiptId!, resource.id).read();
      expect(receipt).toMatchObject({ id: done.result!.receiptId, resourceId: resource.id });
    }
  });

  it('counts what it finds in the first round only; what later rounds erase is counted as deleted', async () => {
    const identityPhase = PHASES.delete.findIndex((s) => s.name === 'identities');
    for (const rounds of [0, 1]) {
      const { identity } = await services().identities.create(resource, {});
      const { runner } = runnerOf('worker-a');
      const request = await rewrite(await submitted('delete', { identityIds: [identity.id], emails: [] }), { status: 'running', phase: identityPhase, rounds });
      expect(await runner.run(europe(), request, far(), { maxSteps: 1 })).toBe('paused');
      expect(await stored(request)).toMatchObject({
        phase: identityPhase + 1,
        inFlight: null,
        erasedThisRound: 1,
        counts: { identity: { found: rounds === 0 ? 1 : 0, held: 0, deleted: 1 } },
      });
    }
  });
});

describe('a finished inventory', () => {
  it('keeps its result for 7 days: the document named by the request, its header with counts found and held only, and its tags', async () => {
    const { runner } = runnerOf('worker-a');
    const counts = { identity: { found: 2, held: 1, deleted: 0 } };
    const request = await rewrite(await submitted('inventory', { emails: ['Alice@Contoso.example'] }), { status: 'running', phase: PHASES.inventory.length, counts, holdIds: ['hold-1'] });
    expect(await runner.run(europe(), request, far())).toBe('finished');
    const done = await stored(request);
    const blobName = `${resource.id}/${request.id}.json`;
    expect(done).toMatchObject({ status: 'succeeded', subjects: null, result: { blobName }, completedAt: clock.now().toISOString(), expiresAt: later(7 * DAY_MS), bundle: null });
    const blob = (await europe().blobContainer('exports')).getBlockBlobClient(blobName);
    const text = (await blob.downloadToBuffer()).toString('utf8');
    expect(done.result!.bytes).toBe(Buffer.byteLength(text));
    const { data, ...header } = JSON.parse(text) as Record<string, unknown>;
    expect(header).toEqual({
      schema: 'https://schemas.acs-residency.dev/privacy-inventory/v1',
      requestId: request.id,
      resourceId: resource.id,
      action: 'inventory',
      requestedAt: request.createdAt,
      completedAt: clock.now().toISOString(),
      expiresAt: later(7 * DAY_MS),
      subjects: { identityIds: [], phoneNumbers: [], emails: ['alice@contoso.example'] },
      counts: { identity: { found: 2, held: 1 } },
      holdIds: ['hold-1'],
    });
    expect(Object.keys(data as object)).toEqual(PHASES.inventory.map((s) => s.name));
    expect((await blob.getTags()).tags).toEqual({ resourceId: resource.id, requestId: request.id, expiresAt: later(7 * DAY_MS) });
  });
});

describe('a finished export', () => {
  it('has every export section in its document, in their order, empty ones included, and its own schema', async () => {
    const { runner } = runnerOf('worker-a');
    const request = await rewrite(await submitted('export'), { status: 'running', phase: PHASES.export.length });
    expect(await runner.run(europe(), request, far())).toBe('finished');
    const blob = (await europe().blobContainer('exports')).getBlockBlobClient(`${resource.id}/${request.id}.json`);
    const document = JSON.parse((await blob.downloadToBuffer()).toString('utf8')) as { schema: string; action: string; data: Record<string, unknown[]> };
    expect({ schema: document.schema, action: document.action }).toEqual({ schema: 'https://schemas.acs-residency.dev/privacy-export/v1', action: 'export' });
    expect(Object.entries(document.data)).toEqual(EXPORT_SECTIONS.map((section) => [section, []]));
  });
});

describe('due requests', () => {
  it('are those waiting or running, oldest first, at most the number asked; with a time, only those without a lease then', async () => {
    const japan = services().stores.forGeography(geographyByKey('japan'));
    const other = (await services().resources.get('request-runner-due'))!;
    const { runner } = runnerOf('worker-a');
    const made: PrivacyRequestRecord[] = [];
    for (const [i, changes] of ([
      { status: 'notStarted', lease: null },
      { status: 'running', lease: { owner: 'w', until: later(1) } },
      { status: 'running', lease: { owner: 'w', until: later(0) } },
      { status: 'succeeded', lease: null },
      { status: 'failed', lease: null },
      { status: 'running', lease: null },
    ] as Partial<PrivacyRequestRecord>[]).entries()) {
      made.push(await rewrite(await submitted('inventory', {}, other), { ...changes, createdAt: `2026-12-0${5 - Math.min(i, 4)}T00:00:00.00${i}Z` }, japan));
    }
    const ids = (rows: PrivacyRequestRecord[]) => rows.map((r) => made.findIndex((m) => m.id === r.id));
    // Oldest first: 5, 4 and 3 were made on the 1st (by their milliseconds), then 2, 1 and 0.
    expect(ids(await runner.due(japan, 10))).toEqual([5, 2, 1, 0]);
    expect(ids(await runner.due(japan, 2))).toEqual([5, 2]);
    expect(ids(await runner.due(japan, 10, clock.now()))).toEqual([5, 2, 0]);
  });
});

describe('a delete waiting for events', () => {
  it('walks the store again next run when an item naming the subject cannot go yet: the phase kept, the lease released', async () => {
    const { identity } = await services().identities.create(resource, {});
    const outboxPhase = PHASES.delete.findIndex((source) => source.name === 'outboxEvents');
    await (await europe().container('outbox')).items.create({ id: `pending-${identity.id}`, resourceId: resource.id, kind: 'outboxEntry', status: 'pending', subjects: [identity.id], events: [] });
    const { runner } = runnerOf('worker-a');
    const request = await rewrite(await submitted('delete', { identityIds: [identity.id], emails: [] }), { status: 'running', phase: outboxPhase });
    expect(await runner.run(europe(), request, far())).toBe('waiting');
    expect(await stored(request)).toMatchObject({ status: 'running', phase: outboxPhase, cursor: null, waiting: 0, lease: null, counts: {} });
  });
});

/**
 * Europe's store, whose privacy request writes (`replace`) fail while `failWith` is set: with a
 * store error, or with 412 as when another worker wrote first.
 */
function faultyEurope(): { geo: GeoStore; fault: { failWith?: number } } {
  const fault: { failWith?: number } = {};
  const real = europe();
  const failingItem = <T extends object>(item: T) =>
    new Proxy(item, {
      get: (target, prop) =>
        prop === 'replace' && fault.failWith !== undefined
          ? async () => Promise.reject(Object.assign(new Error(`injected ${fault.failWith}`), { code: fault.failWith }))
          : forward(target, prop),
    });
  const failingContainer = <T extends { item(id: string, pk: string): object }>(container: T) =>
    new Proxy(container, { get: (target, prop) => (prop === 'item' ? (id: string, pk: string) => failingItem(target.item(id, pk)) : forward(target, prop)) });
  const geo = new Proxy(real, {
    get: (target, prop) =>
      prop === 'container'
        ? async (name: Parameters<GeoStore['container']>[0]) => (name === 'privacyRequests' ? failingContainer(await target.container(name)) : target.container(name))
        : forward(target, prop),
  });
  return { geo, fault };
}

describe('store errors', () => {
  it('other than a lost lease are passed on by claim and by run as it starts, and nothing is written', async () => {
    const { geo, fault } = faultyEurope();
    const { runner } = runnerOf('worker-a');
    const request = await submitted('inventory');
    fault.failWith = 503;
    await expect(runner.claim(geo, request)).rejects.toMatchObject({ code: 503 });
    await expect(runner.run(geo, request, far())).rejects.toMatchObject({ code: 503 });
    fault.failWith = 412;
    expect(await runner.claim(geo, request)).toBe(false);
    expect(await runner.run(geo, request, far())).toBe('busy');
    expect((await stored(request))._etag).toBe(request._etag);
  });

  it("writing a failed run: a lost lease ends the run paused, any other error is passed on", async () => {
    const { geo, fault } = faultyEurope();
    /** A run whose first write goes through; the failure's own write then meets `failWith`. */
    const failingRun = async (failWith: number) => {
      const request = await submitted('inventory');
      const { runner } = runnerOf('worker-a', {
        context: async () => {
          fault.failWith = failWith;
          throw new Error('context unavailable');
        },
      });
      return { request, run: runner.run(geo, request, far()).finally(() => (fault.failWith = undefined)) };
    };
    const lost = await failingRun(412);
    expect(await lost.run).toBe('paused');
    const broken = await failingRun(503);
    await expect(broken.run).rejects.toMatchObject({ code: 503 });
    for (const { request } of [lost, broken]) {
      const after = await stored(request);
      expect(after).toMatchObject({ status: 'running', lease: { owner: 'worker-a' } });
      expect(after.failures).toBeUndefined();
    }
  });
});
