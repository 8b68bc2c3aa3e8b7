import type { Container, OperationInput, PatchRequestBody } from '@azure/cosmos';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { MAX_LISTED_HELD, PURGE_STALL_MS, type HeldItem, type PurgeRunRecord } from '../../shared/retention/purge-run-record.js';
import { PurgeRuns } from '../../shared/retention/purge-runs.js';
import { ControlStore, type ControlContainerName } from '../../shared/stores/control-store.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * Purge run records against the embedded Cosmos server, without a stack: how a run begins (or
 * waits for the previous one to drain, or ends a stalled one first), what the planner and each work
 * item add, when and how a run ends (once, with the counts its item markers give), each checked on
 * the stored record.
 */
const cosmos = useEmbeddedCosmos();

const START = '2026-05-01T03:00:00.000Z';
let databases = 0;

/** A store call the next fault may pick: a marker's create or a run's patch, with what it writes. */
type StoreCall =
  | { op: 'create'; container: ControlContainerName; body: unknown }
  | { op: 'patch'; container: ControlContainerName; body: PatchRequestBody }
  | { op: 'batch'; container: ControlContainerName; body: OperationInput[] };

/**
 * The control store with one armed fault: the first call `failNext` picks fails with a 503 (the
 * store unavailable), the way any error but 404, 409 and 412 reaches the runs, and writes nothing.
 */
class FaultyControlStore extends ControlStore {
  failNext?: (call: StoreCall) => boolean;
  /** The answer the next transactional batch gets instead of the store's (nothing is written): a batch refused by one of its operations. */
  refuseNextBatch?: { code: number; result: { statusCode: number }[] };

  override async container(name: ControlContainerName): Promise<Container> {
    const real = await super.container(name);
    const fault = (call: StoreCall) => {
      if (!this.failNext?.(call)) return;
      this.failNext = undefined;
      throw Object.assign(new Error('Service unavailable'), { code: 503 });
    };
    return new Proxy(real, {
      get: (target, key) => {
        if (key === 'items')
          return new Proxy(target.items, {
            get: (items, k) =>
              k === 'create'
                ? async (body: unknown) => (fault({ op: 'create', container: name, body }), items.create(body as never))
                : k === 'batch'
                  ? async (body: OperationInput[], partitionKey: string) => {
                      fault({ op: 'batch', container: name, body });
                      const refused = this.refuseNextBatch;
                      this.refuseNextBatch = undefined;
                      return refused ?? items.batch(body, partitionKey);
                    }
                  : Reflect.get(items, k),
          });
        if (key === 'item')
          return (id: string, partitionKey: string) => {
            const item = target.item(id, partitionKey);
            return new Proxy(item, {
              get: (it, k) => (k === 'patch' ? async (body: PatchRequestBody) => (fault({ op: 'patch', container: name, body }), it.patch(body)) : Reflect.get(it, k)),
            });
          };
        return Reflect.get(target, key);
      },
    });
  }
}

/** Purge runs over a database of their own, and the stored records as they are. */
function freshRuns(countWindowMs?: number) {
  const databaseId = `purge-runs-${(databases += 1)}`;
  const clock = new ManualClock(START);
  const control = new FaultyControlStore(async () => cosmos.client(), databaseId);
  const runs = new PurgeRuns({ control, clock, ...(countWindowMs === undefined ? {} : { countWindowMs }) });
  const stored = async (run: Pick<PurgeRunRecord, 'id' | 'kind'>) => {
    const { resource } = await cosmos.client().database(databaseId).container('purgeRuns').item(run.id, run.kind).read<PurgeRunRecord & { _etag: string }>();
    return resource!;
  };
  return { runs, clock, stored, control };
}

const held = (n: number): HeldItem => ({ resourceId: 'r1', subjectType: 'chatThread', subjectId: `19:t${n}@thread.v2`, holdIds: [`hold-${n}`] });

async function begun(runs: PurgeRuns, kind: 'chatRetention' | 'recordingPurge' = 'chatRetention'): Promise<PurgeRunRecord> {
  const begin = await runs.begin(kind);
  if (!('run' in begin)) throw new Error('the previous run is draining');
  return begin.run;
}

describe('beginning a run', () => {
  it('starts a run with zero counts, every deleted kind of its purge at 0, and an id from its start', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs, 'recordingPurge');
    expect(run.id).toMatch(/^2026-05-01T03:00:00\.000Z_[0-9a-f]{8}$/);
    expect(await stored(run)).toMatchObject({
      id: run.id,
      kind: 'recordingPurge',
      status: 'running',
      planning: 'running',
      startedAt: START,
      lastProgressAt: START,
      planned: 0,
      done: 0,
      held: 0,
      failed: 0,
      settled: 0,
      heldAtPlanning: 0,
      errors: 0,
      skippedForHold: [],
      skippedForHoldCount: 0,
      deleted: { recordings: 0, landingFiles: 0 },
    });
  });

  it('waits while the previous run made progress less than PURGE_STALL_MS ago, to the millisecond; then ends it as stalled and begins', async () => {
    const { runs, clock, stored } = freshRuns();
    const first = await begun(runs);
    await runs.addPlanned(first, 2);
    clock.advance(PURGE_STALL_MS - 1);
    const waiting = await runs.begin('chatRetention');
    expect(waiting).toEqual({ draining: expect.objectContaining({ id: first.id, planned: 2 }) });
    expect(await runs.recent('chatRetention', 5)).toHaveLength(1);
    clock.advance(1);
    const second = await begun(runs);
    expect(second.id).not.toBe(first.id);
    expect(await stored(first)).toMatchObject({ status: 'failed', planning: 'failed', failure: 'Stalled: its planning never finished.', errors: 1, finishedAt: second.startedAt });
    expect((await runs.recent('chatRetention', 5)).map((r) => r.id)).toEqual([second.id, first.id]);
  });

  it('begins at once after a run that ended, however recent', async () => {
    const { runs } = freshRuns();
    const first = await begun(runs);
    expect(await runs.finishPlanning(first)).toMatchObject({ status: 'succeeded' });
    await expect(runs.begin('chatRetention')).resolves.toHaveProperty('run');
    // Another kind's runs are apart.
    await expect(runs.begin('recordingPurge')).resolves.toHaveProperty('run');
  });
});

describe('what the planner adds', () => {
  it('adds enqueued and held counts and lists what holds kept; a call with nothing writes nothing', async () => {
    const { runs, clock, stored } = freshRuns();
    const run = await begun(runs);
    const before = await stored(run);
    clock.advance(1000);
    await runs.addPlanned(run, 0, []);
    expect((await stored(run))._etag).toBe(before._etag);
    await runs.addPlanned(run, 3, [held(1), held(2)]);
    clock.advance(1000);
    await runs.addPlanned(run, 0, [held(3)]);
    expect(await stored(run)).toMatchObject({
      planned: 3,
      held: 3,
      heldAtPlanning: 3,
      skippedForHoldCount: 3,
      skippedForHold: [held(1), held(2), held(3)],
      lastProgressAt: '2026-05-01T03:00:02.000Z',
      settled: 0,
    });
  });

  it(`lists at most ${MAX_LISTED_HELD} held items and counts them all`, async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 0, Array.from({ length: MAX_LISTED_HELD + 1 }, (_, i) => held(i)));
    const record = await stored(run);
    expect(record.skippedForHold).toHaveLength(MAX_LISTED_HELD);
    expect(record.skippedForHold.at(-1)).toEqual(held(MAX_LISTED_HELD - 1));
    expect({ held: record.held, count: record.skippedForHoldCount }).toEqual({ held: MAX_LISTED_HELD + 1, count: MAX_LISTED_HELD + 1 });
  });
});

describe('the end of the planning', () => {
  it('ends a run with nothing planned at once, with its times', async () => {
    const { runs, clock, stored } = freshRuns();
    const run = await begun(runs);
    clock.advance(2500);
    const ended = await runs.finishPlanning(run);
    expect(ended).toMatchObject({ status: 'succeeded', planning: 'done', plannedAt: '2026-05-01T03:00:02.500Z', finishedAt: '2026-05-01T03:00:02.500Z', durationMs: 2500 });
    expect(ended?.failure).toBeUndefined();
    expect(await stored(run)).toMatchObject({ status: 'succeeded', lastProgressAt: '2026-05-01T03:00:02.500Z', errors: 0 });
  });

  it('keeps a run with unsettled items running', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 2);
    expect(await runs.finishPlanning(run)).toMatchObject({ status: 'running', planning: 'done' });
    expect((await stored(run)).finishedAt).toBeUndefined();
  });

  it('a failed planning ends the run failed, with the first 300 characters of the failure and one error', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    const failure = `europe: ${'x'.repeat(400)}`;
    await runs.finishPlanning(run, failure);
    expect(await stored(run)).toMatchObject({ status: 'failed', planning: 'failed', failure: failure.slice(0, 300), errors: 1 });
  });
});

describe('settling work items', () => {
  it('counts each item once, what it deleted by kind, and ends the run with the markers\' counts when the last one settles', async () => {
    const { runs, clock, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 3);
    await runs.finishPlanning(run);
    expect(await runs.settle('chatRetention', run.id, 'a', { result: 'done', deleted: { chatThreads: 1, chatItems: 12, operationLogs: 0 } })).toBe(true);
    // The same item delivered again: not counted again, only `settled` moves on while the run drains.
    expect(await runs.settle('chatRetention', run.id, 'a', { result: 'done', deleted: { chatThreads: 1, chatItems: 12 } })).toBe(false);
    expect(await stored(run)).toMatchObject({ status: 'running', done: 1, settled: 2, deleted: { chatThreads: 1, chatItems: 12, operationLogs: 0 } });
    // `settled` reached `planned` (3) early, but the markers say one item is missing: still running.
    expect(await runs.settle('chatRetention', run.id, 'b', { result: 'done' })).toBe(true);
    expect(await stored(run)).toMatchObject({ status: 'running', done: 2, settled: 3 });
    clock.advance(60_000);
    expect(await runs.settle('chatRetention', run.id, 'c', { result: 'done', deleted: { chatThreads: 1, chatItems: 3 } })).toBe(true);
    const ended = await stored(run);
    expect(ended).toMatchObject({ status: 'succeeded', done: 3, settled: 3, errors: 0, deleted: { chatThreads: 2, chatItems: 15, operationLogs: 0 }, durationMs: 60_000 });
    // A delivery after the end changes nothing.
    expect(await runs.settle('chatRetention', run.id, 'c', { result: 'done' })).toBe(false);
    expect((await stored(run))._etag).toBe(ended._etag);
    // The API's view leaves out the kinds it deleted none of.
    expect((await runs.get('chatRetention', run.id))?.deleted).toEqual({ chatThreads: 2, chatItems: 15 });
  });

  it('a failed item is an error and fails the run with its message; a held one is counted, listed and held', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 3, [held(1)]);
    await runs.finishPlanning(run);
    await runs.settle('chatRetention', run.id, 'a', { result: 'failed' });
    await runs.settle('chatRetention', run.id, 'b', { result: 'held', held: held(2) });
    await runs.settle('chatRetention', run.id, 'b', { result: 'held', held: held(2) });
    await runs.settle('chatRetention', run.id, 'c', { result: 'done' });
    expect(await stored(run)).toMatchObject({
      status: 'failed',
      failure: '1 work item(s) failed on every attempt and went to the poison queue; what they were for is planned again by the next run.',
      failed: 1,
      errors: 1,
      done: 1,
      held: 2,
      heldAtPlanning: 1,
      skippedForHoldCount: 2,
      skippedForHold: [held(1), held(2)],
      settled: 3,
    });
  });

  it('counts every deleted kind while the run drains, in patches of at most ten operations (settled with the last); the end agrees', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 2);
    await runs.finishPlanning(run);
    const deleted = { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7, k8: 8, k9: 9 };
    const requests = await requestsSoFar(control);
    await runs.settle('chatRetention', run.id, 'a', { result: 'done', deleted });
    // The marker, then 10 operations (done and 9 kinds), then settled with the stamp.
    expect(cosmos.emulator().requests() - requests).toBe(3);
    expect(await stored(run)).toMatchObject({ status: 'running', settled: 1, done: 1, deleted: { chatThreads: 0, ...deleted } });
    await runs.settle('chatRetention', run.id, 'b', { result: 'done' });
    expect(await stored(run)).toMatchObject({ status: 'succeeded', settled: 2, done: 2, deleted: { chatThreads: 0, ...deleted } });
  });
});

/** Store requests served so far, once the markers' container is known to the control store (its first use reads it). */
async function requestsSoFar(control: ControlStore): Promise<number> {
  await control.container('purgeRunItems');
  return cosmos.emulator().requests();
}

describe('items of a run settling on one instance at about the same time', () => {
  it('are counted with one patch of their sums: a marker each and one store request more', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 10);
    const requests = await requestsSoFar(control);
    const outcomes = [
      { result: 'done', deleted: { chatThreads: 1, chatItems: 4 } },
      { result: 'done', deleted: { chatThreads: 1, chatItems: 7 } },
      { result: 'done' },
      { result: 'failed' },
      { result: 'held', held: held(3) },
    ] as const;
    expect(await Promise.all(outcomes.map((outcome, n) => runs.settle('chatRetention', run.id, `item-${n}`, outcome)))).toEqual([true, true, true, true, true]);
    // 5 markers, the held item's listing, one patch.
    expect(cosmos.emulator().requests() - requests).toBe(7);
    expect(await stored(run)).toMatchObject({ status: 'running', planned: 10, settled: 5, done: 3, failed: 1, held: 1, errors: 1, skippedForHoldCount: 1, skippedForHold: [held(3)], deleted: { chatThreads: 2, chatItems: 11 } });
  });

  it('fill one patch exactly with done and 7 deleted kinds (10 operations with settled and the stamp); counts of 0 take none', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 10);
    const deleted = { k1: 1, k2: 2, k3: 3, k4: 4, k5: 5, k6: 6, k7: 7 };
    const requests = await requestsSoFar(control);
    await runs.settle('chatRetention', run.id, 'full', { result: 'done', deleted });
    // The marker and one patch.
    expect(cosmos.emulator().requests() - requests).toBe(2);
    expect(await stored(run)).toMatchObject({ settled: 1, done: 1, held: 0, failed: 0, errors: 0, skippedForHoldCount: 0, deleted: { chatThreads: 0, ...deleted } });
  });

  it('of two runs at once are each counted into their own run', async () => {
    const { runs, stored } = freshRuns();
    const first = await begun(runs, 'chatRetention');
    const second = await begun(runs, 'recordingPurge');
    await Promise.all([runs.addPlanned(first, 10), runs.addPlanned(second, 10)]);
    await Promise.all([
      runs.settle('chatRetention', first.id, 'a', { result: 'done', deleted: { chatThreads: 1 } }),
      runs.settle('recordingPurge', second.id, 'a', { result: 'done', deleted: { recordings: 2 } }),
      runs.settle('recordingPurge', second.id, 'b', { result: 'failed' }),
    ]);
    expect(await stored(first)).toMatchObject({ settled: 1, done: 1, failed: 0, deleted: { chatThreads: 1 } });
    expect(await stored(second)).toMatchObject({ settled: 2, done: 1, failed: 1, errors: 1, deleted: { recordings: 2 } });
  });

  it('change nothing when their patch comes after the run ended: the end counted them from their markers', async () => {
    // This instance waits 1 s for more items (long enough for what the other does meanwhile, even on a loaded machine); another one counts at once.
    const { runs, stored, control, clock } = freshRuns(1_000);
    const other = new PurgeRuns({ control, clock, countWindowMs: 0 });
    const run = await begun(runs);
    await runs.addPlanned(run, 2);
    await runs.finishPlanning(run);
    let counted = false;
    const waiting = runs.settle('chatRetention', run.id, 'a', { result: 'done', deleted: { chatItems: 3 } }).then((first) => ((counted = true), first));
    // Item b elsewhere, then delivered again there (its instance died before acknowledging it): the
    // second delivery's nudge brings `settled` to 2, and the markers (a's among them) end the run.
    expect(await other.settle('chatRetention', run.id, 'b', { result: 'done', deleted: { chatItems: 4 } })).toBe(true);
    expect(await other.settle('chatRetention', run.id, 'b', { result: 'done', deleted: { chatItems: 4 } })).toBe(false);
    expect(await stored(run)).toMatchObject({ status: 'succeeded', settled: 2, done: 2, deleted: { chatItems: 7 } });
    // Item a's group had not been written yet: its patch comes after the end.
    expect(counted).toBe(false);
    expect(await waiting).toBe(true);
    expect(await stored(run)).toMatchObject({ status: 'succeeded', settled: 2, done: 2, deleted: { chatItems: 7 } });
  });

  it('are counted apart when one settles after the window of the other closed', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 10);
    const requests = await requestsSoFar(control);
    await runs.settle('chatRetention', run.id, 'one', { result: 'done' });
    await runs.settle('chatRetention', run.id, 'two', { result: 'done' });
    expect(cosmos.emulator().requests() - requests).toBe(4);
    expect(await stored(run)).toMatchObject({ settled: 2, done: 2 });
  });

  it('all get the error when their patch fails; delivered again, each finds its marker and moves settled on, and the end counts them from the markers', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 3);
    await runs.finishPlanning(run);
    control.failNext = (call) => call.op === 'patch' && call.container === 'purgeRuns';
    const first = await Promise.allSettled(['a', 'b', 'c'].map((key) => runs.settle('chatRetention', run.id, key, { result: 'done', deleted: { chatItems: 2 } })));
    expect(first.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await stored(run)).toMatchObject({ status: 'running', settled: 0, done: 0, deleted: { chatItems: 0 } });
    expect(await Promise.all(['a', 'b', 'c'].map((key) => runs.settle('chatRetention', run.id, key, { result: 'done', deleted: { chatItems: 2 } })))).toEqual([false, false, false]);
    expect(await stored(run)).toMatchObject({ status: 'succeeded', settled: 3, done: 3, deleted: { chatItems: 6 } });
  });
});

describe('settling while the run drains', () => {
  it('counts a failed item as an error and a held one as skipped at once, and adds no deleted kind it deleted none of', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 5);
    await runs.settle('chatRetention', run.id, 'a', { result: 'failed' });
    await runs.settle('chatRetention', run.id, 'b', { result: 'held', held: held(7) });
    await runs.settle('chatRetention', run.id, 'c', { result: 'done', deleted: { chatThreads: 1, extraKind: 0 } });
    const record = await stored(run);
    expect(record).toMatchObject({ status: 'running', failed: 1, errors: 1, held: 1, skippedForHoldCount: 1, skippedForHold: [held(7)], done: 1, settled: 3 });
    expect(Object.keys(record.deleted)).not.toContain('extraKind');
    expect(record.deleted.chatThreads).toBe(1);
  });

  it('settles an item of a run that no longer exists without an error (its marker written, nothing to count into)', async () => {
    const { runs } = freshRuns();
    await expect(runs.settle('chatRetention', 'no-such-run', 'a', { result: 'held', held: held(1) })).resolves.toBe(true);
    await expect(runs.settle('chatRetention', 'no-such-run', 'a', { result: 'held', held: held(1) })).resolves.toBe(false);
  });
});

describe('the purges\' status', () => {
  it('gives one status per purge, in order', async () => {
    const { runs } = freshRuns();
    expect((await runs.status({})).map((s) => s.kind)).toEqual(['chatRetention', 'recordingPurge']);
  });
});

describe('a stalled run', () => {
  it('names the items that never settled', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 3);
    await runs.finishPlanning(run);
    await runs.settle('chatRetention', run.id, 'a', { result: 'failed' });
    await runs.reconcile(await stored(run));
    expect(await stored(run)).toMatchObject({ status: 'failed', planning: 'failed', failure: 'Stalled: 2 of 3 work items never settled.', failed: 1, errors: 2, settled: 1 });
  });

  it('counts a stall after a failed planning as that one error, not two', async () => {
    const { runs, stored } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 2);
    await runs.finishPlanning(run, 'japan: the store is unavailable');
    expect(await stored(run)).toMatchObject({ status: 'running', planning: 'failed', errors: 1 });
    await runs.reconcile(await stored(run));
    expect(await stored(run)).toMatchObject({ status: 'failed', failure: 'Stalled: 2 of 2 work items never settled.', errors: 1, settled: 0 });
  });

  it('ends as succeeded, with the markers\' counts, when every item had settled but an instance died before counting it', async () => {
    const { runs, clock, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 1);
    await runs.finishPlanning(run);
    // The marker of the one item, written without its increment (the instance died in between).
    await (await control.container('purgeRunItems')).items.create({ id: `${run.id}|a`, kind: 'chatRetention', runId: run.id, result: 'done', deleted: { chatThreads: 1 }, at: START });
    clock.advance(5000);
    const ended = await runs.reconcile(await stored(run));
    expect(ended).toMatchObject({ status: 'succeeded', done: 1, settled: 1, deleted: { chatThreads: 1 }, finishedAt: '2026-05-01T03:00:05.000Z' });
    // Ended once: a second reconcile leaves its end as it was.
    clock.advance(5000);
    await runs.reconcile(await stored(run));
    expect(await stored(run)).toMatchObject({ status: 'succeeded', finishedAt: '2026-05-01T03:00:05.000Z', durationMs: 5000 });
  });
});

describe('ending a run', () => {
  const settledRun = async (h: ReturnType<typeof freshRuns>) => {
    const run = await begun(h.runs);
    await h.runs.addPlanned(run, 1);
    await h.runs.finishPlanning(run);
    // The one item's marker, without its increment: the run is left for the reconcile to end.
    await (await h.control.container('purgeRunItems')).items.create({ id: `${run.id}|a`, kind: 'chatRetention', runId: run.id, result: 'done', deleted: {}, at: START });
    return run;
  };

  it('throws nothing and writes nothing when the run record is gone meanwhile', async () => {
    const h = freshRuns();
    const run = await settledRun(h);
    const snapshot = await h.stored(run);
    await (await h.control.container('purgeRuns')).item(run.id, run.kind).delete();
    await expect(h.runs.reconcile(snapshot)).resolves.toMatchObject({ id: run.id, status: 'running', settled: 1, done: 1 });
    const { resource } = await (await h.control.container('purgeRuns')).item(run.id, run.kind).read();
    expect(resource).toBeUndefined();
  });

  it('passes on an operation of its batch refused for another reason than the run having ended, with that status, and the run stays running', async () => {
    const h = freshRuns();
    const run = await settledRun(h);
    // The counts' patch would have gone (424: not applied because another failed); the status patch was refused with 400.
    h.control.refuseNextBatch = { code: 207, result: [{ statusCode: 424 }, { statusCode: 400 }] };
    await expect(h.runs.reconcile(await h.stored(run))).rejects.toMatchObject({ code: 400, message: `Ending purge run ${run.id} failed with 400` });
    expect(await h.stored(run)).toMatchObject({ status: 'running', settled: 0 });
  });
});

describe('reading runs', () => {
  it('lists the newest first, at most as many as asked, without Cosmos system fields; an unknown id is undefined', async () => {
    const { runs, clock } = freshRuns();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      const run = await begun(runs);
      await runs.finishPlanning(run);
      ids.push(run.id);
      clock.advance(1);
    }
    const recent = await runs.recent('chatRetention', 2);
    expect(recent.map((r) => r.id)).toEqual([ids[2], ids[1]]);
    expect(Object.keys(recent[0]!).filter((key) => key.startsWith('_'))).toEqual([]);
    expect(await runs.get('chatRetention', 'no-such-run')).toBeUndefined();
    expect(await runs.recent('recordingPurge', 5)).toEqual([]);
  });
});

describe('a store error other than 404, 409 and 412', () => {
  /** The operations of a patch, whether passed alone or with a condition. */
  const operationsOf = (body: PatchRequestBody) => (Array.isArray(body) ? body : body.operations);
  const unavailable = { code: 503, message: 'Service unavailable' };

  it('on an item\'s marker is passed on, and nothing is counted', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 1);
    control.failNext = (call) => call.op === 'create' && call.container === 'purgeRunItems';
    await expect(runs.settle('chatRetention', run.id, 'a', { result: 'done' })).rejects.toMatchObject(unavailable);
    expect(await stored(run)).toMatchObject({ status: 'running', settled: 0, done: 0 });
    // The item's next delivery counts it.
    expect(await runs.settle('chatRetention', run.id, 'a', { result: 'done' })).toBe(true);
    expect(await stored(run)).toMatchObject({ settled: 1, done: 1 });
  });

  it('on listing a held item is passed on, before its counts', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 1);
    control.failNext = (call) => call.op === 'patch' && operationsOf(call.body).some((o) => o.path === '/skippedForHold/-');
    await expect(runs.settle('chatRetention', run.id, 'a', { result: 'held', held: held(1) })).rejects.toMatchObject(unavailable);
    expect(await stored(run)).toMatchObject({ settled: 0, held: 0, skippedForHold: [] });
  });

  it('on counting an item is passed on', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    await runs.addPlanned(run, 2);
    control.failNext = (call) => call.op === 'patch' && operationsOf(call.body).some((o) => o.path === '/settled' && o.op === 'incr');
    await expect(runs.settle('chatRetention', run.id, 'a', { result: 'done' })).rejects.toMatchObject(unavailable);
    expect(await stored(run)).toMatchObject({ settled: 0, done: 0 });
  });

  it('on ending a run is passed on, and the run stays running', async () => {
    const { runs, stored, control } = freshRuns();
    const run = await begun(runs);
    control.failNext = (call) => call.op === 'batch' && call.body.some((o) => o.operationType === 'Patch' && operationsOf(o.resourceBody as PatchRequestBody).some((p) => p.path === '/status'));
    await expect(runs.finishPlanning(run)).rejects.toMatchObject(unavailable);
    expect(await stored(run)).toMatchObject({ status: 'running' });
    expect((await stored(run)).finishedAt).toBeUndefined();
  });
});
