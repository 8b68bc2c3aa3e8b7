import { describe, expect, it } from 'vitest';
import { lazyHandler } from '../../shared/lazy-handler.js';

describe('lazyHandler', () => {
  it('loads the module on the first invocation only, then calls the named handler with the arguments and returns its result', async () => {
    let loads = 0;
    const calls: unknown[][] = [];
    const module = { greet: async (name: string, n: number) => (calls.push([name, n]), `${name}:${n}`), other: async () => 'other' };
    const handler = lazyHandler(async () => (loads++, module), 'greet');
    expect(loads).toBe(0);
    const [a, b] = await Promise.all([handler('a', 1), handler('b', 2)]);
    expect([a, b, await handler('c', 3)]).toEqual(['a:1', 'b:2', 'c:3']);
    expect(loads).toBe(1);
    expect(calls).toEqual([['a', 1], ['b', 2], ['c', 3]]);
  });

  it('passes on a failed load to that invocation and loads again on the next one', async () => {
    let loads = 0;
    const handler = lazyHandler(async () => {
      loads += 1;
      if (loads === 1) throw new Error('chunk not readable');
      return { run: async () => 'ran' };
    }, 'run');
    await expect(handler()).rejects.toThrow('chunk not readable');
    expect(await handler()).toBe('ran');
    expect(await handler()).toBe('ran');
    expect(loads).toBe(2);
  });

  it('passes on what the handler throws, without loading again', async () => {
    let loads = 0;
    const handler = lazyHandler(async () => (loads++, { fail: async () => Promise.reject(new Error('handler failed')) }), 'fail');
    await expect(handler()).rejects.toThrow('handler failed');
    await expect(handler()).rejects.toThrow('handler failed');
    expect(loads).toBe(1);
  });
});
