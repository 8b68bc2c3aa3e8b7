import type { Container } from '@azure/cosmos';
import type { ResourceRegistry } from '../resources/resource-registry.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { AccountLocationCheck, GeographyAccounts } from './account-locations.js';

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

/**
 * - ok: nothing misplaced, and every account of every geography verified in its geography's regions.
 * - problemsFound: a misplaced item, or an account outside its geography's regions or shared (account-locations.ts).
 * - notVerified: no problem found, but some account's location or some geography's stores could not be read: not proven.
 */
export type AuditVerdict = 'ok' | 'problemsFound' | 'notVerified';

export interface ResidencyAuditReport {
  startedAt: string;
  finishedAt: string;
  verdict: AuditVerdict;
  checked: number;
  misplacedCount: number;
  geographies: { geography: string; cosmosItems: number; blobs: number; accounts: GeographyAccounts; scanError?: string }[];
  misplaced: MisplacedItem[];
}

/**
 * Checks where every enabled geography's accounts are, then scans its stores and checks that each
 * item sits in the geography of its resource. It only reads: databases and containers that do not
 * exist yet are skipped, not created.
 */
export async function auditResidency(deps: {
  stores: GeoStore[];
  registry: ResourceRegistry;
  accounts: AccountLocationCheck;
  now: () => Date;
}): Promise<ResidencyAuditReport> {
  const startedAt = deps.now().toISOString();
  const geographyOf = new Map((await deps.registry.list()).map((r) => [r.id, r.geographyKey]));
  const accounts = await deps.accounts(deps.stores);
  const report: ResidencyAuditReport = { startedAt, finishedAt: '', verdict: 'notVerified', checked: 0, misplacedCount: 0, geographies: [], misplaced: [] };

  const check = (geo: GeoStore, store: 'cosmos' | 'blob', location: string, id: string, resourceId: string) => {
    report.checked += 1;
    const home = geographyOf.get(resourceId);
    if (home === geo.geography.key) return;
    report.misplaced.push({ store, foundIn: geo.geography.key, location, id, resourceId, resourceGeography: home ?? null });
  };

  // A pool number sits in the pool of its own geography; `resourceId` is '' and `resourceGeography` the pool's when it does not.
  const checkPool = (geo: GeoStore, location: string, id: string, poolGeography: string) => {
    report.checked += 1;
    if (poolGeography === geo.geography.key) return;
    report.misplaced.push({ store: 'cosmos', foundIn: geo.geography.key, location, id, resourceId: '', resourceGeography: poolGeography });
  };

  for (const geo of deps.stores) {
    const counts = { cosmosItems: 0, blobs: 0 };
    let scanError: string | undefined;
    try {
      await scanGeography(geo, counts, check, checkPool);
    } catch (error) {
      // A store that answers anything but "not found" is unread, not empty: the verdict cannot be ok.
      scanError = describeFailure(error);
    }
    report.geographies.push({ geography: geo.geography.name, ...counts, accounts: accounts.get(geo.geography.key)!, ...(scanError ? { scanError } : {}) });
  }
  report.misplacedCount = report.misplaced.length;
  report.verdict = verdictOf(report);
  report.finishedAt = deps.now().toISOString();
  return report;
}

type ItemCheck = (geo: GeoStore, store: 'cosmos' | 'blob', location: string, id: string, resourceId: string) => void;
type PoolCheck = (geo: GeoStore, location: string, id: string, poolGeography: string) => void;

async function scanGeography(geo: GeoStore, counts: { cosmosItems: number; blobs: number }, check: ItemCheck, checkPool: PoolCheck): Promise<void> {
  for (const container of await existingContainers(geo)) {
    const iterator = container.items.query<{ id: string; resourceId?: string; poolGeography?: string }>('SELECT c.id, c.resourceId, c.poolGeography FROM c', { maxItemCount: 1000 });
    while (iterator.hasMoreResults()) {
      const { resources } = await iterator.fetchNext();
      for (const item of resources ?? []) {
        counts.cosmosItems += 1;
        // The number pool belongs to its geography, not to a resource (shared/stores/store-catalogue.ts).
        if (item.resourceId === undefined && item.poolGeography !== undefined) checkPool(geo, `${geo.databaseId}/${container.id}`, item.id, item.poolGeography);
        else check(geo, 'cosmos', `${geo.databaseId}/${container.id}`, item.id, item.resourceId ?? '');
      }
    }
  }
  const service = await geo.blobService();
  for (const containerName of geo.allBlobContainerNames()) {
    const container = service.getContainerClient(containerName);
    if (!(await container.exists())) continue;
    for await (const blob of container.listBlobsFlat()) {
      counts.blobs += 1;
      check(geo, 'blob', containerName, blob.name, blob.name.split('/')[0] ?? '');
    }
  }
}

/** A failure in words without secrets: the store's status code, or the error's class. */
function describeFailure(error: unknown): string {
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  const status = typeof code === 'number' ? code : statusCode;
  return typeof status === 'number' ? `the store answered ${status}` : `the store could not be reached (${error instanceof Error ? error.name : 'unknown error'})`;
}

function verdictOf(report: ResidencyAuditReport): AuditVerdict {
  const statuses = report.geographies.flatMap(({ accounts }) => [accounts.cosmos.status, accounts.storage.status, accounts.topic.status]);
  if (report.misplacedCount > 0 || statuses.some((s) => s === 'wrongLocation' || s === 'shared')) return 'problemsFound';
  const scanned = report.geographies.every((g) => g.scanError === undefined);
  return scanned && statuses.every((s) => s === 'ok') ? 'ok' : 'notVerified';
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
