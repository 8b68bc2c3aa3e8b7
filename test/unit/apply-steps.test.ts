import { describe, expect, it } from 'vitest';
import { eachAtMost } from '../../shared/each-at-most.js';
import { applySteps } from '../../shared/events/apply-steps.js';
import type { StoreOp } from '../../shared/events/outbox.js';

const memberships = { plane: 'geo', container: 'chatMemberships' } as const;
const threads = { plane: 'geo', container: 'chatThreads' } as const;
const upsert = (target: StoreOp['target'], partitionKey: string, id = partitionKey): StoreOp => ({ op: 'upsert', target, partitionKey, item: { id } });
const label = (op: StoreOp) => `${op.op} ${op.target.container}/${op.partitionKey}`;
const shape = (runs: StoreOp[][]) => applySteps(runs).map((step) => `${step.kind}: ${step.ops.map(label).join(', ')}`);

describe('the steps a change is applied in', () => {
  it('puts consecutive single upserts and unconditional deletes on one container, each in its own partition, side by side', () => {
    const thread = [upsert(threads, 't'), upsert(threads, 't', 'p1')];
    expect(
      shape([
        thread,
        [upsert(memberships, 'a')],
        [upsert(memberships, 'b')],
        [{ op: 'delete', target: memberships, id: 't', partitionKey: 'c' }],
        [upsert(threads, 'u')],
      ]),
    ).toEqual(['partition: upsert chatThreads/t, upsert chatThreads/t', 'independent: upsert chatMemberships/a, upsert chatMemberships/b, delete chatMemberships/c', 'partition: upsert chatThreads/u']);
  });

  it('keeps in order what may depend on another: a partition named twice, a patch, a delete with an etag, another container, a run of more than one', () => {
    expect(shape([[upsert(memberships, 'a')], [upsert(memberships, 'b')], [upsert(memberships, 'a', 'second')]])).toEqual([
      'independent: upsert chatMemberships/a, upsert chatMemberships/b',
      'partition: upsert chatMemberships/a',
    ]);
    expect(shape([[upsert(memberships, 'a')], [{ op: 'patch', target: memberships, id: 'x', partitionKey: 'b', set: { n: 1 } }], [upsert(memberships, 'c')]])).toEqual([
      'partition: upsert chatMemberships/a',
      'partition: patch chatMemberships/b',
      'partition: upsert chatMemberships/c',
    ]);
    expect(shape([[upsert(memberships, 'a')], [{ op: 'delete', target: memberships, id: 'x', partitionKey: 'b', ifMatch: '"etag"' }]])).toEqual([
      'partition: upsert chatMemberships/a',
      'partition: delete chatMemberships/b',
    ]);
    expect(shape([[upsert(memberships, 'a')], [upsert(threads, 'b')]])).toEqual(['partition: upsert chatMemberships/a', 'partition: upsert chatThreads/b']);
    expect(shape([[upsert(memberships, 'a')], [upsert(memberships, 'b'), upsert(memberships, 'b', 'b2')], [upsert(memberships, 'c')]])).toEqual([
      'partition: upsert chatMemberships/a',
      'partition: upsert chatMemberships/b, upsert chatMemberships/b',
      'partition: upsert chatMemberships/c',
    ]);
  });

  it('keeps every operation, in order within each step', () => {
    const runs = Array.from({ length: 40 }, (_, i) => [upsert(memberships, `m${i}`)]);
    const steps = applySteps(runs);
    expect(steps).toHaveLength(1);
    expect(steps[0]!.ops).toEqual(runs.flat());
  });
});

describe('eachAtMost', () => {
  it('runs every item, never more than the limit at once, and the limit when there is enough work', async () => {
    let inFlight = 0;
    let most = 0;
    const done: number[] = [];
    await eachAtMost(
      Array.from({ length: 50 }, (_, i) => i),
      16,
      async (i) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        done.push(i);
      },
    );
    expect(done.sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(most).toBe(16);
  });

  it('lets every item settle before it throws the first failure', async () => {
    const settled: number[] = [];
    const run = eachAtMost([0, 1, 2, 3, 4], 2, async (i) => {
      await new Promise((resolve) => setImmediate(resolve));
      settled.push(i);
      if (i === 1 || i === 3) throw new Error(`item ${i} failed`);
    });
    await expect(run).rejects.toThrow('item 1 failed');
    expect(settled.sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
