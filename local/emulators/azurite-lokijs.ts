import { createRequire } from 'node:module';

/**
 * Azurite keeps its metadata (queue messages, blob extents) in lokijs collections with binary
 * indices. lokijs rebuilds every binary index of a collection, sorting all of its documents, on any
 * batch removal, even of nothing; and Azurite's queue service removes the queue's expired messages
 * (almost always none) before every message it puts, gets, updates or deletes. So each queue operation
 * sorted every message of the account four times: with 10 000 work items queued (the retention
 * benchmark), 95% of the run was that sorting, and the cost per work item grew with the queue's
 * length. A removal of nothing now returns at once; a removal of anything is unchanged. Applied once
 * per process, to the lokijs Azurite loads.
 */
interface LokiCollectionPrototype {
  data: object[];
  removeBatchByPositions(positions: number[]): void;
  remove(doc: object): void;
  skipsEmptyRemovals?: true;
}

export function skipEmptyLokiRemovals(): void {
  const fromAzurite = createRequire(createRequire(import.meta.url).resolve('azurite/package.json'));
  const loki = fromAzurite('lokijs') as { Collection: { prototype: LokiCollectionPrototype } };
  const collection = loki.Collection.prototype;
  if (collection.skipsEmptyRemovals) return;
  const removeBatchByPositions = collection.removeBatchByPositions;
  if (typeof removeBatchByPositions !== 'function') throw new Error('lokijs has no Collection.removeBatchByPositions: check the version Azurite uses');
  collection.removeBatchByPositions = function (this: LokiCollectionPrototype, positions: number[]) {
    if (positions.length === 0) return;
    // One document: the single removal, which updates the indices in place instead of re-sorting them.
    if (positions.length === 1) return this.remove(this.data[positions[0]!]!);
    removeBatchByPositions.call(this, positions);
  };
  collection.skipsEmptyRemovals = true;
}
