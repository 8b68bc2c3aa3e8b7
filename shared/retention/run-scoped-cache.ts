/**
 * What the work items of one purge run on one instance may share for a few seconds (a resource's
 * record, its legal holds), so a thread costs fewer store requests. Keyed by run and key, kept for
 * `ttlMs` of real time (a cache, not a domain time; `now` is for tests); a new run never sees the
 * last run's values.
 */
export class RunScopedCache<T> {
  readonly #entries = new Map<string, { until: number; value: Promise<T> }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** How many entries are kept (expired ones go when a value is next loaded). */
  get size(): number {
    return this.#entries.size;
  }

  get(runId: string, key: string, load: () => Promise<T>): Promise<T> {
    const id = `${runId}|${key}`;
    const now = this.now();
    let entry = this.#entries.get(id);
    if (!entry || entry.until <= now) {
      for (const [k, e] of this.#entries) if (e.until <= now) this.#entries.delete(k);
      entry = { until: now + this.ttlMs, value: load() };
      entry.value.catch(() => this.#entries.delete(id));
      this.#entries.set(id, entry);
    }
    return entry.value;
  }
}
