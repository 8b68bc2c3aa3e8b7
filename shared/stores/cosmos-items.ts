import type { Container } from '@azure/cosmos';

/** A query over a container that does not exist yet finds nothing. */
export async function emptyIfMissing<T>(query: () => Promise<{ resources: T[] }>): Promise<{ resources: T[] }> {
  try {
    return await query();
  } catch (error) {
    if ((error as { code?: number }).code === 404) return { resources: [] };
    throw error;
  }
}

export async function deleteIfExists(container: Container, id: string, partitionKey: string): Promise<boolean> {
  try {
    await container.item(id, partitionKey).delete();
    return true;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return false;
    throw error;
  }
}

/**
 * `createIfNotExists` of a database or container, where another instance creating the same one at
 * the same moment (it reads 404, then its create answers 409) counts as it existing.
 */
export async function createdOrExisting<T>(create: () => Promise<T>, existing: () => T): Promise<T> {
  try {
    return await create();
  } catch (error) {
    if ((error as { code?: number }).code === 409) return existing();
    throw error;
  }
}
