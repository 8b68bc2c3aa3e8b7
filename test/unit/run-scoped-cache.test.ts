import { describe, expect, it } from 'vitest';
import { RunScopedCache } from '../../shared/retention/run-scoped-cache.js';

/**
 * The purge workers' per-run cache (a resource's record, its legal holds): a value is reused within
 * its run for exactly `ttlMs`, never across runs, a failed load is not kept, and expired entries go.
 */
describe('RunScopedCache', () => {
  const counting = () => {
    const calls: string[] = [];
    return { calls, load: (value: string) => async () => (calls.push(value), value) };
  };

  it('reuses a value within its run until exactly ttlMs have passed, then loads it again', async () => {
    let now = 1_000;
    const cache = new RunScopedCache<string>(100, () => now);
    const { calls, load } = counting();
    expect(await cache.get('run-1', 'holds', load('a'))).toBe('a');
    now = 1_099;
    expect(await cache.get('run-1', 'holds', load('b'))).toBe('a');
    expect(calls).toEqual(['a']);
    now = 1_100;
    expect(await cache.get('run-1', 'holds', load('c'))).toBe('c');
    expect(calls).toEqual(['a', 'c']);
    // The reload starts a new period from its own time.
    now = 1_199;
    expect(await cache.get('run-1', 'holds', load('d'))).toBe('c');
    expect(calls).toEqual(['a', 'c']);
  });

  it('never gives one run the value of another, nor one key the value of another', async () => {
    const cache = new RunScopedCache<string>(1_000, () => 0);
    const { calls, load } = counting();
    expect(await cache.get('run-1', 'holds', load('run-1 holds'))).toBe('run-1 holds');
    expect(await cache.get('run-2', 'holds', load('run-2 holds'))).toBe('run-2 holds');
    expect(await cache.get('run-1', 'resource', load('run-1 resource'))).toBe('run-1 resource');
    expect(await cache.get('run-1', 'holds', load('again'))).toBe('run-1 holds');
    expect(calls).toEqual(['run-1 holds', 'run-2 holds', 'run-1 resource']);
  });

  it('does not keep a failed load: the next get loads again', async () => {
    const cache = new RunScopedCache<string>(1_000, () => 0);
    await expect(cache.get('run-1', 'holds', () => Promise.reject(new Error('store down')))).rejects.toThrow('store down');
    expect(cache.size).toBe(0);
    expect(await cache.get('run-1', 'holds', async () => 'loaded')).toBe('loaded');
    expect(cache.size).toBe(1);
  });

  it('drops every expired entry when it loads, and only those', async () => {
    let now = 0;
    const cache = new RunScopedCache<string>(100, () => now);
    await cache.get('run-1', 'a', async () => 'a');
    now = 50;
    await cache.get('run-1', 'b', async () => 'b');
    expect(cache.size).toBe(2);
    now = 100; // 'a' expires exactly now, 'b' has 50 ms left
    await cache.get('run-2', 'c', async () => 'c');
    expect(cache.size).toBe(2);
    expect(await cache.get('run-1', 'b', async () => 'b reloaded')).toBe('b');
    now = 149;
    await cache.get('run-1', 'b', async () => 'b reloaded');
    expect(cache.size).toBe(2);
  });
});
