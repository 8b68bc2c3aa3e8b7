import { nameKey } from './resource-registry.js';
import type { Resource } from './resource.js';

/**
 * Active resources by name, kept per instance for `ttlMs` of wall time (RESOURCE_CACHE_MS), so a
 * user-token request does not read the registry every time. Only active resources are kept: an
 * unknown name is read again at every request, so a resource created on another instance works there
 * at once. A change made on this instance (settings, keys, deletion) is forgotten here at once; on
 * other instances it shows within `ttlMs`, and a deletion waits that long before it erases (see
 * ResourceService.delete). Names are compared as the registry compares them, whatever their case.
 * Wall time, not the service's clock: tests move that one by days.
 */
export class ResourceCache {
  readonly #entries = new Map<string, { resource: Resource; at: number }>();

  constructor(
    readonly ttlMs: number,
    private readonly wallNow: () => number = Date.now,
  ) {}

  /** The active resource of that name as read less than `ttlMs` ago, if any. */
  get(name: string): Resource | undefined {
    const entry = this.#entries.get(nameKey(name));
    if (!entry) return undefined;
    if (this.wallNow() - entry.at < this.ttlMs) return entry.resource;
    this.#entries.delete(nameKey(name));
    return undefined;
  }

  /** The wall time to give `set` for a read that starts now. */
  now(): number {
    return this.wallNow();
  }

  /**
   * Keeps an active resource as read by a request that started at `readAt` (nothing is kept with a ttl
   * of 0): its age counts from before the read, so an entry never outlives a change made during it.
   */
  set(resource: Resource, readAt: number): void {
    if (this.ttlMs > 0) this.#entries.set(nameKey(resource.name), { resource, at: readAt });
  }

  forget(name: string): void {
    this.#entries.delete(nameKey(name));
  }
}
