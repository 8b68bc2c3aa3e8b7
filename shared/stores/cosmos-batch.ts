import type { Container, OperationInput } from '@azure/cosmos';
import { deleteIfExists } from './cosmos-items.js';

/** Cosmos runs at most 100 operations in one transactional batch, all in one logical partition. */
export const MAX_BATCH_OPERATIONS = 100;

/**
 * What became of a transactional batch: `applied` (every operation), `refused` (one operation failed,
 * so Cosmos applied none of them and answered 207 with its status, 424 for the others) or `unknown`
 * (the request failed as a whole: throttled past the client's retries, a lost connection; it may or
 * may not have been applied, and the client reports no status).
 */
export type BatchOutcome = 'applied' | 'refused' | 'unknown';

/** Runs operations of one partition as one transactional batch: one store request, all or nothing. */
export async function runBatch(container: Container, partitionKey: string, operations: OperationInput[]): Promise<BatchOutcome> {
  if (operations.length === 0) return 'applied';
  if (operations.length > MAX_BATCH_OPERATIONS) throw new Error(`A transactional batch takes at most ${MAX_BATCH_OPERATIONS} operations, not ${operations.length}.`);
  try {
    const response = await container.items.batch(operations, partitionKey);
    return response.code !== 207 && (response.result ?? []).every((r) => r.statusCode < 400) ? 'applied' : 'refused';
  } catch {
    return 'unknown';
  }
}

/** Splits a list into runs of at most `size`. */
export function chunks<T>(items: readonly T[], size = MAX_BATCH_OPERATIONS): T[][] {
  const runs: T[][] = [];
  for (let i = 0; i < items.length; i += size) runs.push(items.slice(i, i + size));
  return runs;
}

/**
 * Deletes items of one partition, up to 100 in one transactional batch (one store request). A batch
 * with an item that is already gone fails as a whole (Cosmos batches are atomic); that batch's items
 * (or a batch's whose outcome is unknown) are then deleted one by one, skipping what is gone. Returns how many items this call deleted, so a
 * rerun over the same ids counts nothing twice.
 */
export async function deleteInPartition(container: Container, partitionKey: string, ids: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const run of chunks([...new Set(ids)])) {
    if ((await runBatch(container, partitionKey, run.map((id) => ({ operationType: 'Delete' as const, id })))) === 'applied') {
      deleted += run.length;
      continue;
    }
    for (const id of run) if (await deleteIfExists(container, id, partitionKey)) deleted += 1;
  }
  return deleted;
}

/** Deletes items of any partitions: grouped by partition, each group as in `deleteInPartition`. */
export async function deleteGrouped(container: Container, items: readonly { id: string; partitionKey: string }[]): Promise<number> {
  const byPartition = new Map<string, string[]>();
  for (const { id, partitionKey } of items) {
    const ids = byPartition.get(partitionKey);
    if (ids) ids.push(id);
    else byPartition.set(partitionKey, [id]);
  }
  let deleted = 0;
  for (const [partitionKey, ids] of byPartition) deleted += await deleteInPartition(container, partitionKey, ids);
  return deleted;
}
