import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { stableId } from '../events/event-record.js';
import type { Outbox } from '../events/outbox.js';
import { geographyByKey } from '../geography/geographies.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { ResourceCache } from './resource-cache.js';
import { eraseResourceData } from './resource-data-eraser.js';
import { toDoc, type ResourceRegistry } from './resource-registry.js';
import { resourceNameSchema, type DeletionReport, type PutResourceBody, type Resource } from './resource.js';

export const RESOURCE_EVENT_TYPES = {
  created: 'AcsResidency.ResourceCreated',
  deleted: 'AcsResidency.ResourceDeleted',
} as const;

export interface ResourceServiceDeps {
  registry: ResourceRegistry;
  stores: StoreDirectory;
  outboxFor: (geo: GeoStore) => Outbox;
  clock: Clock;
  /** Keys of the geographies resources may be created in (ENABLED_GEOGRAPHIES). */
  enabledGeographies: readonly string[];
  /** How long an instance may take an active resource from its cache for user-token requests (RESOURCE_CACHE_MS; 0: never). */
  cacheMs?: number;
  /** Wall time for the cache (Date.now when absent). */
  wallNow?: () => number;
  /** Waits real time (setTimeout when absent): a deletion waits out the other instances' caches. */
  sleep?: (ms: number) => Promise<void>;
}

const newKey = () => randomBytes(64).toString('base64');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const MAX_RACE_RETRIES = 5;

export const eventSource = (resourceId: string) => `/resources/${resourceId}`;

/** Runs before a resource's data is erased (e.g. its phone numbers go back to the pool); must be safe to run again. */
export type ResourceDeletionHook = (geo: GeoStore, resource: Resource) => Promise<void>;

/** The control plane: create, read, re-key and delete resources. */
export class ResourceService {
  readonly #deletionHooks: ResourceDeletionHook[] = [];
  readonly #cache: ResourceCache;

  constructor(private readonly deps: ResourceServiceDeps) {
    this.#cache = new ResourceCache(deps.cacheMs ?? 0, deps.wallNow);
  }

  /** Adds work that must happen when a resource is deleted, before its data is erased. */
  addDeletionHook(hook: ResourceDeletionHook): void {
    this.#deletionHooks.push(hook);
  }

  /** Creates the resource (201) or confirms / updates an existing one (200). */
  async put(name: string, body: PutResourceBody): Promise<{ created: boolean; resource: Resource }> {
    if (!this.deps.enabledGeographies.includes(body.geography.key)) {
      const enabled = this.deps.enabledGeographies.map((key) => geographyByKey(key).name).join(', ');
      throw new ServiceError('ValidationError', `The geography ${body.geography.name} is not enabled in this deployment; enabled: ${enabled}.`, { target: 'geography' });
    }
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt += 1) {
      const existing = await this.deps.registry.getByName(name);
      if (existing && existing.resource.state !== 'deleted') {
        const { resource, etag } = existing;
        if (resource.geographyKey !== body.geography.key) {
          throw new ServiceError(
            'Conflict',
            `Resource '${resource.name}' is in ${geographyByKey(resource.geographyKey).name}; a resource's geography is fixed at creation and cannot be changed to ${body.geography.name}.`,
            { target: 'geography' },
          );
        }
        if (resource.state === 'deleting') {
          throw new ServiceError('Conflict', `Resource '${resource.name}' is being deleted; repeat the DELETE to finish it first.`);
        }
        if (resource.state === 'creating') return { created: true, resource: await this.#activate(resource) };
        const changed = changedSettings(resource, body);
        if (!changed) return { created: false, resource };
        const updated: Resource = { ...resource, ...changed, updatedAt: this.#now() };
        if (await this.deps.registry.replace(updated, etag)) {
          this.#cache.forget(name);
          return { created: false, resource: updated };
        }
        continue;
      }
      const fresh = this.#newResource(name, body);
      const written = existing
        ? await this.deps.registry.replace(fresh, existing.etag)
        : await this.deps.registry.create(fresh);
      if (written) return { created: true, resource: await this.#activate(fresh) };
    }
    throw new ServiceError('Conflict', `Resource '${name}' is being changed concurrently; try again.`);
  }

  async get(name: string): Promise<Resource> {
    const found = await this.deps.registry.getByName(name);
    if (!found || found.resource.state === 'deleted' || found.resource.state === 'creating') {
      throw new ServiceError('NotFound', `Resource '${name}' was not found.`, { target: 'name' });
    }
    return found.resource;
  }

  async list(): Promise<Resource[]> {
    return (await this.deps.registry.list()).filter((r) => r.state === 'active' || r.state === 'deleting');
  }

  /** Replaces one key; the old one stops working at once (a request signed with a key reads the registry, never the cache). */
  async regenerateKey(name: string, which: 'primary' | 'secondary'): Promise<Resource> {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt += 1) {
      const found = await this.deps.registry.getByName(name);
      if (!found || found.resource.state !== 'active') {
        throw new ServiceError('NotFound', `Resource '${name}' was not found.`, { target: 'name' });
      }
      const updated: Resource = {
        ...found.resource,
        keys: { ...found.resource.keys, [which]: newKey() },
        updatedAt: this.#now(),
      };
      if (await this.deps.registry.replace(updated, found.etag)) {
        this.#cache.forget(name);
        return updated;
      }
    }
    throw new ServiceError('Conflict', `Resource '${name}' is being changed concurrently; try again.`);
  }

  /**
   * Deletes the resource and all of its data in its geography. Safe to retry: a retry finishes an
   * interrupted deletion, and once deleted the same report is answered again. Between marking the
   * resource `deleting` and erasing, it waits RESOURCE_CACHE_MS: until then another instance may still
   * take the resource as active from its cache and write, and what it wrote is erased with the rest.
   */
  async delete(name: string): Promise<DeletionReport> {
    for (let attempt = 0; attempt < MAX_RACE_RETRIES; attempt += 1) {
      const found = await this.deps.registry.getByName(name);
      if (!found) throw new ServiceError('NotFound', `Resource '${name}' was not found.`, { target: 'name' });
      const { resource, etag } = found;
      if (resource.state === 'deleted' && resource.deletion) return resource.deletion;
      if (resource.state !== 'deleting') {
        const marked: Resource = { ...resource, state: 'deleting', updatedAt: this.#now() };
        if (!(await this.deps.registry.replace(marked, etag))) continue;
      }
      this.#cache.forget(name);
      if (this.#cache.ttlMs > 0) await (this.deps.sleep ?? sleep)(this.#cache.ttlMs);
      return this.#finishDeletion(resource);
    }
    throw new ServiceError('Conflict', `Resource '${name}' is being changed concurrently; try again.`);
  }

  /**
   * The active resource a data-plane request names; a name no resource can have is answered like an
   * unknown one, without a read. With `cached` (user-token requests), one this instance read less than
   * RESOURCE_CACHE_MS ago is taken without a read; requests signed with a resource key read the
   * registry every time, so a regenerated key stops working at once everywhere.
   */
  async resolveActive(name: string, options: { cached?: boolean } = {}): Promise<Resource | undefined> {
    if (!resourceNameSchema.safeParse(name).success) return undefined;
    const cached = options.cached ? this.#cache.get(name) : undefined;
    if (cached) return cached;
    const readAt = this.#cache.now();
    const found = await this.deps.registry.getByName(name);
    if (found?.resource.state !== 'active') {
      this.#cache.forget(name);
      return undefined;
    }
    this.#cache.set(found.resource, readAt);
    return found.resource;
  }

  async #activate(resource: Resource): Promise<Resource> {
    const active: Resource = { ...resource, state: 'active' };
    await this.#commitRegistryChange(resource, active, 'resource.activate', RESOURCE_EVENT_TYPES.created, {
      resourceId: resource.id,
      name: resource.name,
      geography: geographyByKey(resource.geographyKey).name,
      createdAt: resource.createdAt,
    });
    return active;
  }

  /** Writes the registry document and the resource's event through its geography's outbox, once. */
  async #commitRegistryChange(resource: Resource, next: Resource, kind: string, eventType: string, data: Record<string, unknown>): Promise<void> {
    const doc = toDoc(next);
    await this.deps.outboxFor(this.deps.stores.forResource(resource)).commit({
      changeId: stableId(kind, resource.id),
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: [{ op: 'upsert', target: { plane: 'control', container: 'resources' }, partitionKey: doc.id, item: doc }],
      events: [{ type: eventType, subject: `resource/${resource.id}`, data }],
    });
  }

  async #finishDeletion(resource: Resource): Promise<DeletionReport> {
    const geo = this.deps.stores.forResource(resource);
    // Publications this instance has not recorded yet would count as events awaiting publication.
    await this.deps.outboxFor(geo).flushMarks();
    for (const hook of this.#deletionHooks) await hook(geo, resource);
    const counts = await eraseResourceData(geo, resource.id);
    const report: DeletionReport = {
      resourceId: resource.id,
      name: resource.name,
      geography: geographyByKey(resource.geographyKey).name,
      deletedAt: this.#now(),
      removed: { cosmos: counts.cosmos, blobs: counts.blobs },
      eventsAwaitingPublication: counts.eventsAwaitingPublication,
    };
    const tombstone: Resource = {
      ...resource,
      state: 'deleted',
      keys: { primary: '', secondary: '' },
      updatedAt: report.deletedAt,
      deletion: report,
    };
    await this.#commitRegistryChange(resource, tombstone, 'resource.delete', RESOURCE_EVENT_TYPES.deleted, {
      resourceId: resource.id,
      name: resource.name,
      geography: report.geography,
      deletedAt: report.deletedAt,
      removed: report.removed,
    });
    return report;
  }

  #newResource(name: string, body: PutResourceBody): Resource {
    const now = this.#now();
    return {
      id: randomUUID(),
      name,
      geographyKey: body.geography.key,
      eventPayloads: body.eventPayloads ?? 'full',
      ...(body.retention ? { retention: body.retention } : {}),
      createdAt: now,
      updatedAt: now,
      keys: { primary: newKey(), secondary: newKey() },
      state: 'creating',
    };
  }

  #now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** The settings a PUT changes on an existing resource, or undefined when it changes nothing. */
function changedSettings(resource: Resource, body: PutResourceBody): Pick<Resource, 'eventPayloads' | 'retention'> | undefined {
  const eventPayloads = body.eventPayloads ?? resource.eventPayloads;
  const retention = body.retention ? { ...resource.retention, ...body.retention } : resource.retention;
  const same = eventPayloads === resource.eventPayloads && JSON.stringify(retention) === JSON.stringify(resource.retention);
  return same ? undefined : { eventPayloads, retention };
}
