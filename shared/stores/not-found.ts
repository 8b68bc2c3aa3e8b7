/**
 * For deletes and updates of something that may already be gone: a 404 from Cosmos (`code`) or
 * blob storage (`statusCode`) is not a failure; anything else is rethrown.
 */
export function ignoreNotFound(error: unknown): void {
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (code !== 404 && statusCode !== 404) throw error;
}
