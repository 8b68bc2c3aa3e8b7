import type { Container } from '@azure/cosmos';
import { deleteIfExists } from './cosmos-items.js';

/**
 * Settles a repeatability claim (an item of the resource's partition whose `outcome` a repeat is
 * answered with): a transient outcome (429, 5xx) gives the claim up, so a retry with the same id
 * really sends; any other is recorded. A claim gone meanwhile (expired, erased) stays gone.
 */
export async function settleRepeatabilityClaim(container: Container, id: string, resourceId: string, httpStatus: number, outcome: unknown): Promise<void> {
  if (httpStatus === 429 || httpStatus >= 500) {
    await deleteIfExists(container, id, resourceId);
    return;
  }
  await container
    .item(id, resourceId)
    .patch([{ op: 'set', path: '/outcome', value: outcome }])
    .catch((error: unknown) => {
      if ((error as { code?: number }).code !== 404) throw error;
    });
}
