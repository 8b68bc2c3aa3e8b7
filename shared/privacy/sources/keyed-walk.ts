import type { Container } from '@azure/cosmos';
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

/**
 * One page of a resource-partitioned container's items whose array `field` names `key`, in id order
 * after `after`: the lookup `keyedPage` makes for recordings and outbox entries. With
 * `acrossPartitions`, of a container partitioned otherwise (the outbox entries in chat threads).
 */
export async function itemsNaming<T>(
  container: Container,
  resourceId: string,
  query: { select: string; field: string; filter?: string; acrossPartitions?: boolean },
  key: string,
  after: string | undefined,
  limit: number,
): Promise<T[]> {
  const { resources } = await container.items
    .query<T>(
      {
        query: `SELECT TOP @n ${query.select} FROM c WHERE c.resourceId = @rid${query.filter ? ` AND ${query.filter}` : ''} AND ARRAY_CONTAINS(c.${query.field}, @key)${after ? ' AND c.id > @after' : ''} ORDER BY c.id`,
        parameters: [
          { name: '@n', value: limit },
          { name: '@rid', value: resourceId },
          { name: '@key', value: key },
          ...(after ? [{ name: '@after', value: after }] : []),
        ],
      },
      query.acrossPartitions ? {} : { partitionKey: resourceId },
    )
    .fetchAll();
  return resources;
}
