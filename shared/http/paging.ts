import * as z from 'zod';
/**
 * ACS list operations page with a `nextLink`: the absolute URL of the next page. It is the request's
 * own URL (so the endpoint's `resource` parameter stays on it) with the cursor parameters replaced;
 * the SDKs request it as it is.
 */
export function nextLink(requestUrl: string, set: Record<string, string | undefined>): string {
  const url = new URL(requestUrl);
  for (const [name, value] of Object.entries(set)) {
    if (value === undefined) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  return url.toString();
}

export interface Page<T> {
  value: T[];
  /** Cursor parameters of the next page, or undefined on the last page. */
  next?: Record<string, string>;
}

/** The `maxPageSize` query parameter of our own list operations: 1 to `max`, `fallback` when absent. */
export function maxPageSizeParam(max: number, fallback = 50) {
  return z.coerce
    .number({ error: 'maxPageSize must be a whole number' })
    .int('maxPageSize must be a whole number')
    .min(1, `maxPageSize must be between 1 and ${max}`)
    .max(max, `maxPageSize must be between 1 and ${max}`)
    .default(fallback);
}
