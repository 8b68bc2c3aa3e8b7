import type { Container, OperationInput } from '@azure/cosmos';
import { deleteIfExists } from './cosmos-items.js';

/** Cosmos runs at most 100 operations in one transactional batch, all in one logical partition. */
export const MAX_BATCH_OPERATIONS = 100;

/**
 * Runs operations of one partition as one transactional batch (one store request, all or nothing).
 * True when every operation was applied; false when one failed (Cosmos then applied none of them and
 * answered 207 with the failing operation's status). Anything else (the request itself refused,
 * throttled, a network error) is thrown.
 */
export async function runBatch(container: Container, partitionKey: string, operations: OperationInput[]): Promise<boolean> {
  if (operations.length === 0) return true;
  if (operations.length > MAX_BATCH_OPERATIONS) throw new Error(`A transactional batch takes at most ${MAX_BATCH_OPERATIONS} operations, not ${operations.length}.`);
  const response = await container.items.batch(operations, partitionKey);
  const statuses = (response.result ?? []).map((r) => r.statusCode);
  if (response.code === 207 || statuses.some((status) => status >= 400)) {
    const failed = statuses.find((status) => status >= 400 && status !== 424);
    if (failed === 404 || failed === 409 || failed === 412) return false;
    throw Object.assign(new Error(`A transactional batch failed with ${failed ?? response.code}.`), { code: failed ?? response.code });
  }
  return true;
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
 * are then deleted one by one, skipping what is gone. Returns how many items this call deleted, so a
 * rerun over the same ids counts nothing twice.
 */
export async function deleteInPartition(container: Container, partitionKey: string, ids: readonly string[]): Promise<number> {
  let deleted = 0;
  for (const run of chunks([...new Set(ids)])) {
    if (await runBatch(container, partitionKey, run.map((id) => ({ operationType: 'Delete' as const, id })))) {
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
