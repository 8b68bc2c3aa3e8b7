import type { Container } from '@azure/cosmos';
import { deleteGrouped } from '../stores/cosmos-batch.js';
import { ignoreNotFound } from '../stores/not-found.js';
import { GEO_CONTAINERS, type GeoContainerName, type GeoContainerSpec } from '../stores/store-catalogue.js';
import type { GeoStore } from '../stores/geo-store.js';
import { THREAD_ENTRY_KIND } from '../events/entry-home.js';

export interface ErasureCounts {
  cosmos: Record<string, number>;
  blobs: Record<string, number>;
  eventsAwaitingPublication: number;
}

/**
 * Deletes everything a resource holds in its geography: every item of every Cosmos container and
 * every blob under `{resourceId}/` in every blob container. Outbox entries (in the outbox or in a
 * chat thread's partition) whose events are not yet published are kept (they are deleted once published), so deleting a resource never drops events;
 * their store operations are dropped first, so no later redo writes the resource's data back.
 * Safe to run again: what is gone is skipped.
 */
export async function eraseResourceData(geo: GeoStore, resourceId: string): Promise<ErasureCounts> {
  const counts: ErasureCounts = { cosmos: {}, blobs: {}, eventsAwaitingPublication: 0 };
  // The outbox first: a pending entry's operations must not be applied again (by the republisher)
  // after the data they write has been erased.
  // The number pool is the geography's: a resource's numbers went back to it before (a deletion hook).
  const names = geo.allContainerNames().filter((name) => !(GEO_CONTAINERS[name] as GeoContainerSpec).ownedByGeography);
  for (const name of ['outbox' as const, ...names.filter((n) => n !== 'outbox')]) {
    const container = await geo.container(name);
    const removed = await eraseFromContainer(container, name, resourceId, counts);
    counts.cosmos[name] = removed;
  }
  const service = await geo.blobService();
  for (const containerName of geo.allBlobContainerNames()) {
    const container = service.getContainerClient(containerName);
    if (!(await container.exists())) continue;
    let removed = 0;
    for await (const blob of container.listBlobsFlat({ prefix: `${resourceId}/` })) {
      await container.deleteBlob(blob.name, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
      removed += 1;
    }
    counts.blobs[containerName] = removed;
  }
  return counts;
}

async function eraseFromContainer(
  container: Container,
  name: GeoContainerName,
  resourceId: string,
  counts: ErasureCounts,
): Promise<number> {
  const spec = GEO_CONTAINERS[name];
  const pkField = spec.partitionKey.slice(1);
  // Outbox entries: the outbox's, and those kept in chat threads' partitions (a send's, shared/events/entry-home.ts).
  const isEntry = (item: { kind?: string }) => name === 'outbox' || (name === 'chatThreads' && item.kind === THREAD_ENTRY_KIND);
  const query = {
    query: `SELECT c.id, c["${pkField}"] AS pk, c.status, c.kind FROM c WHERE c.resourceId = @rid`,
    parameters: [{ name: '@rid', value: resourceId }],
  };
  const iterator = container.items.query<{ id: string; pk: string; status?: string; kind?: string }>(
    query,
    spec.partitionedByResource ? { partitionKey: resourceId } : {},
  );
  let removed = 0;
  while (iterator.hasMoreResults()) {
    const { resources } = await iterator.fetchNext();
    const deletable: { id: string; partitionKey: string }[] = [];
    for (const item of resources ?? []) {
      if (isEntry(item) && item.status !== 'published') {
        counts.eventsAwaitingPublication += 1;
        // Its events still go out, but its store operations are dropped: re-applied by the
        // republisher, they would write the erased resource's data back.
        if (item.status === 'pending') {
          await container
            .item(item.id, item.pk)
            .patch([
              { op: 'set', path: '/ops', value: [] },
              { op: 'set', path: '/status', value: 'applied' },
            ])
            .catch(ignoreNotFound);
        }
        continue;
      }
      deletable.push({ id: item.id, partitionKey: item.pk });
    }
    // A page's items of one partition in transactional batches of 100.
    removed += await deleteGrouped(container, deletable);
  }
  return removed;
}
