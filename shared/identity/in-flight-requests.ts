/**
 * Requests under way per identity on this instance, so that an identity's deletion can wait until
 * every request that was verified before it became unusable has finished writing.
 */
export class InFlightRequests {
  readonly #counts = new Map<string, number>();
  readonly #waiters = new Map<string, (() => void)[]>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
    try {
      return await work();
    } finally {
      const left = (this.#counts.get(key) ?? 1) - 1;
      if (left > 0) this.#counts.set(key, left);
      else {
        this.#counts.delete(key);
        for (const wake of this.#waiters.get(key) ?? []) wake();
        this.#waiters.delete(key);
      }
    }
  }

  count(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** Resolves once nothing is under way for the key, or after `timeoutMs` (whichever comes first). */
  drained(key: string, timeoutMs: number): Promise<void> {
    if (!this.#counts.has(key)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      const waiters = this.#waiters.get(key) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#waiters.set(key, waiters);
    });
  }
}
