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
