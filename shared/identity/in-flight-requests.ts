/**
 * Requests under way per identity on this instance, so that an identity's deletion can wait until
 * every request that was verified before it became unusable has finished writing. Requests that
 * start after the wait began are not waited for: they find the identity unusable.
 */
export class InFlightRequests {
  readonly #running = new Map<string, Set<Promise<unknown>>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const promise = work();
    let running = this.#running.get(key);
    if (!running) this.#running.set(key, (running = new Set()));
    running.add(promise);
    const done = () => {
      running.delete(promise);
      if (running.size === 0 && this.#running.get(key) === running) this.#running.delete(key);
    };
    promise.then(done, done);
    return promise;
  }

  /** Resolves once every request of the key that is under way now has finished, or after `timeoutMs`. */
  async drained(key: string, timeoutMs: number): Promise<void> {
    const now = [...(this.#running.get(key) ?? [])];
    if (now.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    await Promise.race([Promise.allSettled(now), timeout]);
    clearTimeout(timer);
  }
}
