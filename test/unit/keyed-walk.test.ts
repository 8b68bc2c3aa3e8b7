import { describe, expect, it } from 'vitest';
import type { Cursor } from '../../shared/privacy/privacy-request.js';
import { keyedPage } from '../../shared/privacy/sources/keyed-walk.js';
import type { PrivacyContext } from '../../shared/privacy/sources/subject-source.js';

/**
 * The keyed walk of a store that files records under the people they name: each subject key in
 * turn, pages of at most the page size in id order, a key's last page when it comes back short, and a
 * record taken once, under the first key it names. The store is a list here; the walk is pure.
 */
type Row = { id: string; names: string[] };

function walk(keys: string[], pageSize: number, rows: Row[]) {
  const ctx = { subjects: { keys }, pageSize } as unknown as PrivacyContext;
  const fetches: string[] = [];
  const fetch = async (key: string, after: string | undefined, limit: number) => {
    fetches.push(`${key}>${after ?? ''}#${limit}`);
    return rows.filter((r) => r.names.includes(key) && (after === undefined || r.id > after)).sort((a, b) => a.id.localeCompare(b.id)).slice(0, limit);
  };
  const all = async () => {
    const pages: { ids: string[]; next: Cursor | null }[] = [];
    let cursor: Cursor | null = null;
    do {
      const page: { records: Row[]; next: Cursor | null } = await keyedPage<Row>(ctx, cursor, fetch, (r) => r.names);
      pages.push({ ids: page.records.map((r) => r.id), next: page.next });
      cursor = page.next;
    } while (cursor);
    return pages;
  };
  return { all, fetches };
}

describe('the keyed walk', () => {
  it('pages through each key in id order; a full page stays on the key after its last id, a short one moves to the next key', async () => {
    const rows: Row[] = [
      { id: 'a1', names: ['A'] },
      { id: 'a2', names: ['A'] },
      { id: 'a3', names: ['A'] },
      { id: 'a4', names: ['A'] },
      { id: 'b1', names: ['B'] },
    ];
    const { all, fetches } = walk(['A', 'B'], 2, rows);
    expect(await all()).toEqual([
      { ids: ['a1', 'a2'], next: { k: 0, after: 'a2' } },
      { ids: ['a3', 'a4'], next: { k: 0, after: 'a4' } },
      // A's third page is empty: the walk goes on to B within the same call.
      { ids: ['b1'], next: { k: 2 } },
      { ids: [], next: null },
    ]);
    expect(fetches).toEqual(['A>#2', 'A>a2#2', 'A>a4#2', 'B>#2']);
  });

  it('takes a record naming several subjects once, under the first key; the page still moves on by what the store gave', async () => {
    const rows: Row[] = [
      { id: 'x1', names: ['A', 'B'] },
      { id: 'x2', names: ['B'] },
      { id: 'x3', names: ['B', 'A'] },
    ];
    const { all } = walk(['A', 'B'], 2, rows);
    expect(await all()).toEqual([
      { ids: ['x1', 'x3'], next: { k: 0, after: 'x3' } },
      // A's next page is empty, so B's first comes in the same call: x1, x2 (full), x1 being A's.
      { ids: ['x2'], next: { k: 1, after: 'x2' } },
      // Then x3 alone (short: B is done), also A's: an empty page that still moves the cursor on.
      { ids: [], next: { k: 2 } },
      { ids: [], next: null },
    ]);
  });

  it('is done at once with no keys, and resumes from a cursor', async () => {
    expect(await walk([], 2, []).all()).toEqual([{ ids: [], next: null }]);
    const ctx = { subjects: { keys: ['A', 'B'] }, pageSize: 5 } as unknown as PrivacyContext;
    const asked: string[] = [];
    const page = await keyedPage(
      ctx,
      { k: 1, after: 'b3' },
      async (key, after) => (asked.push(`${key}>${after}`), [{ id: 'b4' }]),
      () => ['B'],
    );
    expect(asked).toEqual(['B>b3']);
    expect(page).toEqual({ records: [{ id: 'b4' }], next: { k: 2 } });
  });
});
