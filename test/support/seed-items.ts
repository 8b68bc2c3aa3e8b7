import type { Container, JSONObject } from '@azure/cosmos';
import { chunks, runBatch } from '../../shared/stores/cosmos-batch.js';

/**
 * Creates a test's set-up items of one partition, 100 to a transactional batch (one store request
 * each instead of one per item); throws unless every batch was applied.
 */
export async function createInPartition(container: Container, partitionKey: string, items: readonly object[]): Promise<void> {
  for (const run of chunks(items)) {
    const outcome = await runBatch(container, partitionKey, run.map((item) => ({ operationType: 'Create' as const, resourceBody: item as JSONObject })));
    if (outcome !== 'applied') throw new Error(`seeding ${run.length} items into ${container.id} (${partitionKey}): ${outcome}`);
  }
}
