import type { Container } from '@azure/cosmos';
import type { ResourceRegistry } from '../resources/resource-registry.js';
import type { GeoStore } from '../stores/geo-store.js';

export interface MisplacedItem {
  store: 'cosmos' | 'blob';
  /** The geography whose store holds the item. */
  foundIn: string;
  location: string;
  id: string;
  resourceId: string;
  /** The geography of the item's resource, or null when no resource has that id. */
  resourceGeography: string | null;
}

export interface ResidencyAuditReport {
  startedAt: string;
  finishedAt: string;
  checked: number;
  misplacedCount: number;
  geographies: { geography: string; cosmosItems: number; blobs: number }[];
  misplaced: MisplacedItem[];
}

/**
 * Scans every geography's stores and checks that each item sits in the geography of its resource.
 * It only reads: databases and containers that do not exist yet are skipped, not created.
 */
export async function auditResidency(deps: {
  stores: GeoStore[];
  registry: ResourceRegistry;
  now: () => Date;
}): Promise<ResidencyAuditReport> {
  const startedAt = deps.now().toISOString();
  const geographyOf = new Map((await deps.registry.list()).map((r) => [r.id, r.geographyKey]));
  const report: ResidencyAuditReport = { startedAt, finishedAt: '', checked: 0, misplacedCount: 0, geographies: [], misplaced: [] };

  const check = (geo: GeoStore, store: 'cosmos' | 'blob', location: string, id: string, resourceId: string) => {
    report.checked += 1;
    const home = geographyOf.get(resourceId);
    if (home === geo.geography.key) return;
    report.misplaced.push({ store, foundIn: geo.geography.key, location, id, resourceId, resourceGeography: home ?? null });
  };

  for (const geo of deps.stores) {
    let cosmosItems = 0;
    let blobs = 0;
    for (const container of await existingContainers(geo)) {
      const iterator = container.items.query<{ id: string; resourceId?: string }>('SELECT c.id, c.resourceId FROM c', { maxItemCount: 1000 });
      while (iterator.hasMoreResults()) {
        const { resources } = await iterator.fetchNext();
        for (const item of resources ?? []) {
          cosmosItems += 1;
          check(geo, 'cosmos', `${geo.databaseId}/${container.id}`, item.id, item.resourceId ?? '');
        }
      }
    }
    const service = await geo.blobService();
    for (const containerName of geo.allBlobContainerNames()) {
      const container = service.getContainerClient(containerName);
      if (!(await container.exists())) continue;
      for await (const blob of container.listBlobsFlat()) {
        blobs += 1;
        check(geo, 'blob', containerName, blob.name, blob.name.split('/')[0] ?? '');
      }
    }
    report.geographies.push({ geography: geo.geography.name, cosmosItems, blobs });
  }
  report.misplacedCount = report.misplaced.length;
  report.finishedAt = deps.now().toISOString();
  return report;
}

async function existingContainers(geo: GeoStore): Promise<Container[]> {
  const database = await geo.existingDatabase();
  try {
    const { resources } = await database.containers.readAll().fetchAll();
    return resources.map((c) => database.container(c.id));
  } catch (error) {
    if ((error as { code?: number }).code === 404) return [];
    throw error;
  }
}
