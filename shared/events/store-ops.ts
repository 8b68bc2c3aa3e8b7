import type { JSONObject, OperationInput, PatchOperation } from '@azure/cosmos';
import { MAX_BATCH_OPERATIONS } from '../stores/cosmos-batch.js';
import type { ControlContainerName } from '../stores/control-store.js';
import type { GeoContainerName } from '../stores/store-catalogue.js';

/** The store operations of an outbox change (outbox.ts), and how they go into transactional batches. */
export type StoreTarget = { plane: 'geo'; container: GeoContainerName } | { plane: 'control'; container: ControlContainerName };

export type StoreOp =
  | { op: 'upsert'; target: StoreTarget; partitionKey: string; item: { id: string } }
  /**
   * Sets top-level fields of an existing item, leaving the others as they are (for items other
   * writers change concurrently, such as a chat thread's sequence counter); `undefined` is stored as
   * null. A missing item is skipped: a later change deleted it. At most 9 fields (Cosmos allows 10
   * operations per patch, and the change stamp is one). With a `condition` (a Cosmos patch filter such
   * as `FROM c WHERE NOT IS_DEFINED(c.deletedOn)`), an item that no longer matches is left alone.
   */
  | { op: 'patch'; target: StoreTarget; id: string; partitionKey: string; set: Record<string, unknown>; condition?: string }
  /**
   * Deletes an item (a missing one is skipped). With `ifMatch` (an etag), only the item as it was then:
   * if it changed since, the fields of `elseSet` are set instead (a patch as above), so whoever
   * finishes the deletion finds it marked (the chat thread purge).
   */
  | { op: 'delete'; target: StoreTarget; id: string; partitionKey: string; ifMatch?: string; elseSet?: Record<string, unknown> };

/** Stamp written on every item an outbox change writes, so a redo can tell what it already did. */
export interface ChangeStamp {
  id: string;
  at: string;
}

/** Well below the 2 MB Cosmos takes in one transactional batch request. */
export const MAX_BATCH_BYTES = 1_500_000;

/**
 * The operations in order, cut into runs on one partition of one container (one batch each), at most
 * 100 operations and MAX_BATCH_BYTES of items each.
 */
export function partitionRuns(ops: StoreOp[]): StoreOp[][] {
  const runs: { place: string; ops: StoreOp[]; bytes: number }[] = [];
  for (const op of ops) {
    const place = `${op.target.plane}/${op.target.container}/${op.partitionKey}`;
    const bytes = opBytes([op]);
    const last = runs.at(-1);
    if (last && last.place === place && last.ops.length < MAX_BATCH_OPERATIONS && last.bytes + bytes <= MAX_BATCH_BYTES) {
      last.ops.push(op);
      last.bytes += bytes;
    } else runs.push({ place, ops: [op], bytes });
  }
  return runs.map((run) => run.ops);
}

export function patchOperations(op: Pick<Extract<StoreOp, { op: 'patch' }>, 'set'>, stamp: ChangeStamp): PatchOperation[] {
  return Object.entries({ ...op.set, changeStamp: stamp }).map(([field, value]) => ({ op: 'set', path: `/${field}`, value: value ?? null }));
}

/** A store operation as an operation of a transactional batch (a first attempt: no redo checks). */
export function batchOperation(op: StoreOp, stamp: ChangeStamp): OperationInput {
  switch (op.op) {
    case 'delete':
      return { operationType: 'Delete', id: op.id, ...(op.ifMatch !== undefined ? { ifMatch: op.ifMatch } : {}) };
    case 'patch': {
      const operations = patchOperations(op, stamp);
      return { operationType: 'Patch', id: op.id, resourceBody: op.condition ? { condition: op.condition, operations } : operations };
    }
    case 'upsert':
      return { operationType: 'Upsert', resourceBody: { ...op.item, changeStamp: stamp } as unknown as JSONObject };
  }
}

/** About how many bytes the operations' items take in a batch request (their JSON). */
export function opBytes(ops: readonly StoreOp[]): number {
  let bytes = 0;
  for (const op of ops) bytes += op.op === 'upsert' ? JSON.stringify(op.item).length : op.op === 'patch' ? JSON.stringify(op.set).length : 0;
  return bytes;
}
