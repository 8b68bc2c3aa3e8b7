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
