import type { Cursor } from '../privacy-request.js';
import type { PrivacyContext } from './subject-source.js';

/**
 * Walks a store that files records under the people they name (an array of raw ids), one subject
 * key after another, in id order after the cursor. A record that names several of the subjects is
 * taken once: under the first key it names.
 */
interface KeyedCursor {
  k: number;
  after?: string;
}

export async function keyedPage<T extends { id: string }>(
  ctx: PrivacyContext,
  cursor: Cursor | null,
  fetch: (key: string, after: string | undefined, limit: number) => Promise<T[]>,
  namesOf: (record: T) => string[],
): Promise<{ records: T[]; next: Cursor | null }> {
  let c = (cursor ?? { k: 0 }) as KeyedCursor;
  const keys = ctx.subjects.keys;
  for (;;) {
    const key = keys[c.k];
    if (key === undefined) return { records: [], next: null };
    const page = await fetch(key, c.after, ctx.pageSize);
    const next: KeyedCursor = page.length < ctx.pageSize ? { k: c.k + 1 } : { k: c.k, after: page.at(-1)!.id };
    const earlier = new Set(keys.slice(0, c.k));
    const records = page.filter((r) => !namesOf(r).some((name) => earlier.has(name)));
    if (page.length === 0) {
      c = next;
      continue;
    }
    return { records, next };
  }
}
