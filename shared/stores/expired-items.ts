import type { Container } from '@azure/cosmos';
import { deleteGrouped } from './cosmos-batch.js';
import { emptyIfMissing } from './cosmos-items.js';

/**
 * Deletes up to `max` items whose `expiresAt` has passed, of a container partitioned by
 * `/resourceId`: one resource's partition (`resourceId`) or every partition, optionally of one
 * `kind`. One query for their ids (one more than `max`, to tell whether more are due), then
 * transactional batches per partition. A missing container has nothing due.
 */
export async function deleteExpired(container: Container, now: Date, max: number, scope: { resourceId?: string; kind?: string } = {}): Promise<{ deleted: number; more: boolean }> {
  if (max <= 0) return { deleted: 0, more: true };
  const filters = [...(scope.resourceId ? ['c.resourceId = @rid'] : []), ...(scope.kind ? ['c.kind = @kind'] : []), 'IS_DEFINED(c.expiresAt)', 'c.expiresAt <= @now'];
  const { resources } = await emptyIfMissing(() =>
    container.items
      .query<{ id: string; resourceId: string }>(
        {
          query: `SELECT TOP @n c.id, c.resourceId FROM c WHERE ${filters.join(' AND ')}`,
          parameters: [
            { name: '@n', value: max + 1 },
            { name: '@now', value: now.toISOString() },
            ...(scope.resourceId ? [{ name: '@rid', value: scope.resourceId }] : []),
            ...(scope.kind ? [{ name: '@kind', value: scope.kind }] : []),
          ],
        },
        scope.resourceId ? { partitionKey: scope.resourceId } : {},
      )
      .fetchAll(),
  );
  const deleted = await deleteGrouped(container, resources.slice(0, max).map((r) => ({ id: r.id, partitionKey: r.resourceId })));
  return { deleted, more: resources.length > max };
}
