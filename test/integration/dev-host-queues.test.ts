import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueServiceClient } from '../../local/queue-client.js';
import { slow } from '../fixtures/queue-recorder.js';
import { calls } from '../fixtures/recorder.js';
import { repoRoot, startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The development host's queue triggers against Azurite's real queue service: polling, dequeue
 * counts, visibility timeout, poison queue, several queues, admin invocation and stop.
 */
const VISIBILITY_MS = 1000;
const MAX_DEQUEUE = 3;
const MAX_POLL_MS = 300;
const BATCH_SIZE = 4;

let stack: TestStack;
let queues: QueueServiceClient;

beforeAll(async () => {
  // The recorder is module state of the worker process, which the test files share: each starts it empty.
  calls.length = 0;
  stack = await startTestStack({
    functionsDir: join(repoRoot, 'test', 'fixtures', 'queue-functions'),
    env: { FIXTURE_OTHER_QUEUE: 'fixture-other' },
    queues: { maxPollingInterval: '00:00:00.300', visibilityTimeout: '00:00:01', maxDequeueCount: MAX_DEQUEUE, batchSize: BATCH_SIZE },
  });
  queues = new QueueServiceClient(stack.stores.queueConnectionString);
  for (const queue of ['fixture-work', 'fixture-fails', 'fixture-other', 'fixture-fanout', 'fixture-slow']) await queues.createQueue(queue);
});
afterAll(async () => {
  await stack?.stop();
});

interface Seen {
  message: unknown;
  metadata: Record<string, unknown>;
}
const seen = (fn: string, key?: string) =>
  calls.filter((c) => c.fn === fn && (key === undefined || (c.input as Seen).message instanceof Object && ((c.input as Seen).message as { key?: string }).key === key));
const base64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');
const enqueue = (queue: string, value: unknown) => queues.sendMessage(queue, base64(typeof value === 'string' ? value : JSON.stringify(value)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(25);
  }
}
/** Long enough for any further (wrong) attempt: a visibility timeout, the longest poll interval and slack. */
const settle = () => sleep(VISIBILITY_MS + MAX_POLL_MS + 700);

describe('development host: queue triggers', () => {
  it('runs a message once, with the parsed JSON body and its metadata, and deletes it', async () => {
    const sent = await enqueue('fixture-work', { key: 'once' });
    await until(() => seen('queueWork', 'once').length > 0);
    await settle();
    const runs = seen('queueWork', 'once');
    expect(runs).toHaveLength(1);
    const { message, metadata } = runs[0]!.input as Seen;
    expect(message).toEqual({ key: 'once' });
    expect(metadata).toMatchObject({ dequeueCount: 1, id: sent.id, queueTrigger: { key: 'once' } });
    for (const time of ['insertionTime', 'expirationTime', 'nextVisibleTime']) expect(Date.parse(String(metadata[time]))).not.toBeNaN();
    expect(typeof metadata.popReceipt).toBe('string');
    expect(await queues.approximateCount('fixture-work')).toBe(0);
  });

  it('retries a failing message after the visibility timeout: dequeue counts 1, 2, 3, then it is gone', async () => {
    await enqueue('fixture-work', { key: 'flaky', failTimes: 2 });
    await until(() => seen('queueWork', 'flaky').length >= 3);
    await settle();
    const runs = seen('queueWork', 'flaky');
    expect(runs.map((r) => (r.input as Seen).metadata.dequeueCount)).toEqual([1, 2, 3]);
    // Not seen again before the visibility timeout, and seen soon after it.
    for (let i = 1; i < runs.length; i += 1) {
      const gap = runs[i]!.at - runs[i - 1]!.at;
      expect(gap).toBeGreaterThanOrEqual(VISIBILITY_MS);
      expect(gap).toBeLessThan(VISIBILITY_MS + MAX_POLL_MS + 1500);
    }
    expect(await queues.approximateCount('fixture-work')).toBe(0);
    expect(stack.logs.filter((l) => l.startsWith('[queueWork] failed on message'))).toHaveLength(2);
    expect(stack.logs.some((l) => /\n\s+at /.test(l))).toBe(false);
  });

  it('moves a message that always fails to <queue>-poison after exactly maxDequeueCount attempts', async () => {
    const sent = await enqueue('fixture-fails', { key: 'poison' });
    await until(async () => (await queues.createQueue('fixture-fails-poison').then(() => queues.approximateCount('fixture-fails-poison'))) === 1);
    await settle();
    const runs = seen('queueAlwaysFails', 'poison');
    expect(runs.map((r) => (r.input as Seen).metadata.dequeueCount)).toEqual([1, 2, 3]);
    expect(MAX_DEQUEUE).toBe(3);
    const poisoned = await queues.peekMessages('fixture-fails-poison');
    expect(poisoned).toHaveLength(1);
    expect(poisoned[0]!.text).toBe(sent.text);
    expect(await queues.approximateCount('fixture-fails')).toBe(0);
    expect(stack.logs.filter((l) => l.includes(`message ${sent.id} failed 3 times: moved to 'fixture-fails-poison'`))).toHaveLength(1);
  });

  it('serves two queues with their own functions (queue name from an app setting, default connection)', async () => {
    await enqueue('fixture-other', { key: 'other' });
    await enqueue('fixture-work', { key: 'work' });
    await enqueue('fixture-other', 'plain text');
    await until(() => seen('queueOther').length >= 2 && seen('queueWork', 'work').length >= 1);
    await settle();
    expect(seen('queueOther').map((c) => (c.input as Seen).message).sort()).toEqual([{ key: 'other' }, 'plain text'].sort());
    expect(seen('queueWork', 'work')).toHaveLength(1);
    expect(seen('queueWork', 'other')).toHaveLength(0);
    expect(seen('queueAlwaysFails', 'other')).toHaveLength(0);
  });

  it('moves a message that is not base64 to the poison queue without running the function', async () => {
    const before = seen('queueOther').length;
    await queues.sendMessage('fixture-other', 'not base64!');
    await until(async () => (await queues.createQueue('fixture-other-poison').then(() => queues.approximateCount('fixture-other-poison'))) === 1);
    expect((await queues.peekMessages('fixture-other-poison'))[0]!.text).toBe('not base64!');
    expect(seen('queueOther')).toHaveLength(before);
    expect(await queues.approximateCount('fixture-other')).toBe(0);
  });

  it('sends the messages of a storage queue output binding (one per array element) to their queue, which is created', async () => {
    await enqueue('fixture-fanout', { key: 'fan' });
    await until(() => seen('queueFanned', 'fan').length >= 2);
    await settle();
    expect(seen('queueFanOut', 'fan')).toHaveLength(1);
    const parts = seen('queueFanned', 'fan').map((c) => c.input as Seen);
    expect(parts.map((p) => p.message).sort((a, b) => (a as { part: number }).part - (b as { part: number }).part)).toEqual([
      { key: 'fan', part: 1 },
      { key: 'fan', part: 2 },
    ]);
    expect(parts.map((p) => p.metadata.dequeueCount)).toEqual([1, 1]);
    expect(await queues.approximateCount('fixture-fanned')).toBe(0);
  });

  it('runs batches concurrently: each of 10 messages once, never more than batchSize + newBatchThreshold at a time', async () => {
    await Promise.all(Array.from({ length: 10 }, (_, i) => enqueue('fixture-slow', { key: `batch-${i}` })));
    await until(() => slow.finished === 10);
    await settle();
    const keys = seen('queueSlow').map((c) => ((c.input as Seen).message as { key: string }).key);
    expect(keys.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `batch-${i}`).sort());
    expect(slow.most).toBeGreaterThan(1);
    expect(slow.most).toBeLessThanOrEqual(BATCH_SIZE + BATCH_SIZE / 2);
    expect(await queues.approximateCount('fixture-slow')).toBe(0);
  });

  it('runs a queue function once with the input of POST /admin/functions/{name}', async () => {
    const response = await fetch(`${stack.httpUrl}/admin/functions/queueOther`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify({ key: 'admin' }) }),
    });
    expect(response.status).toBe(202);
    await until(() => seen('queueOther', 'admin').length > 0);
    await sleep(300);
    expect(seen('queueOther', 'admin')).toHaveLength(1);
  });
});

describe("the test stack's idle()", () => {
  it('counts a message not yet visible as work left, and returns once it has run and every queue is empty', async () => {
    await queues.sendMessage('fixture-work', base64(JSON.stringify({ key: 'idle-check' })), 1);
    // Held by the queue, invisible for a second: no listener can take it yet.
    expect(await stack.host.queueTriggers.queuesWithMessages()).toEqual(new Set(['fixture-work']));
    await stack.idle();
    expect(seen('queueWork', 'idle-check')).toHaveLength(1);
    expect(await stack.host.queueTriggers.queuesWithMessages()).toEqual(new Set());
  });
});

describe('development host: queue triggers after stop', () => {
  it('waits for the run in progress when the host stops, then polls no more', async () => {
    const finishedBefore = slow.finished;
    await enqueue('fixture-slow', { key: 'in-flight' });
    await until(() => seen('queueSlow', 'in-flight').length === 1);
    await stack.host.stop();
    expect(slow.finished).toBe(finishedBefore + 1);
    expect(await queues.approximateCount('fixture-slow')).toBe(0);
    const countBefore = calls.length;
    await enqueue('fixture-work', { key: 'after-stop' });
    await sleep(3 * MAX_POLL_MS + 500);
    expect(calls).toHaveLength(countBefore);
    const left = await queues.peekMessages('fixture-work');
    expect(left.map((m) => m.dequeueCount)).toEqual([0]);
  });
});
