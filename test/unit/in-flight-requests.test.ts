import { afterEach, describe, expect, it, vi } from 'vitest';
import { InFlightRequests } from '../../shared/identity/in-flight-requests.js';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}
/** Whether the promise has settled after the pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
  return done;
}

afterEach(() => vi.useRealTimers());

describe('requests in flight per identity', () => {
  it('answers what the work answers, and a drain waits only for the requests of its key under way when it began', async () => {
    const requests = new InFlightRequests();
    const first = deferred<string>();
    const answer = requests.run('a', () => first.promise);
    const other = deferred();
    void requests.run('b', () => other.promise);
    const drain = requests.drained('a', 60_000);
    const later = deferred();
    void requests.run('a', () => later.promise);
    expect(await settled(drain)).toBe(false);
    first.resolve('done');
    expect(await answer).toBe('done');
    // Done although the request that started after it and the other key's are still running.
    expect(await settled(drain)).toBe(true);
    expect(await settled(requests.drained('b', 60_000))).toBe(false);
    later.resolve();
    other.resolve();
  });

  it('counts a failed request as finished', async () => {
    const requests = new InFlightRequests();
    const failing = deferred();
    const run = requests.run('a', () => failing.promise);
    const drain = requests.drained('a', 60_000);
    failing.reject(new Error('refused'));
    await expect(run).rejects.toThrow('refused');
    expect(await settled(drain)).toBe(true);
  });

  it('waits for every request of the key under way, whichever finishes first', async () => {
    const requests = new InFlightRequests();
    const slow = deferred();
    const quick = deferred();
    void requests.run('a', () => slow.promise);
    const second = requests.run('a', () => quick.promise);
    quick.resolve();
    await second;
    const drain = requests.drained('a', 60_000);
    expect(await settled(drain)).toBe(false);
    slow.resolve();
    expect(await settled(drain)).toBe(true);
  });

  it('drains at once, without a timer, with nothing under way, also after the last request of a key has finished', async () => {
    vi.useFakeTimers();
    const requests = new InFlightRequests();
    const none = requests.drained('a', 60_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(await settled(none)).toBe(true);
    const done = deferred();
    const first = requests.run('a', () => done.promise);
    const second = requests.run('a', async () => undefined);
    done.resolve();
    await Promise.all([first, second]);
    const after = requests.drained('a', 60_000);
    expect(vi.getTimerCount()).toBe(0);
    expect(await settled(after)).toBe(true);
  });

  it('gives up waiting after the timeout, to the millisecond', async () => {
    vi.useFakeTimers();
    const requests = new InFlightRequests();
    void requests.run('a', () => new Promise(() => undefined));
    const drain = requests.drained('a', 1_000);
    await vi.advanceTimersByTimeAsync(999);
    expect(await settled(drain)).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await settled(drain)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears its timer when the requests finish first', async () => {
    vi.useFakeTimers();
    const requests = new InFlightRequests();
    const work = deferred();
    void requests.run('a', () => work.promise);
    const drain = requests.drained('a', 1_000);
    expect(vi.getTimerCount()).toBe(1);
    work.resolve();
    await vi.advanceTimersByTimeAsync(0);
    expect(await settled(drain)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
