import { describe, expect, it } from 'vitest';
import { itemsNaming } from '../../shared/privacy/sources/keyed-walk.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * The lookup of the keyed walk (recordings, outbox entries) against the embedded Cosmos server alone:
 * one resource's items whose array field names a key, of the kind the filter allows, in id order
 * after a given id, at most `limit`.
 */
const cosmos = useEmbeddedCosmos();

describe('itemsNaming', () => {
  it('finds one resource\'s items naming the key, of the filtered kind, in id order, at most the limit, after an id', async () => {
    const { database } = await cosmos.client().databases.createIfNotExists({ id: 'items-naming' });
    const { container } = await database.containers.createIfNotExists({ id: 'recordings', partitionKey: { paths: ['/resourceId'] } });
    const items = [
      { id: 'c', resourceId: 'r1', kind: 'recording', participantIds: ['key', 'other'] },
      { id: 'a', resourceId: 'r1', kind: 'recording', participantIds: ['key'] },
      { id: 'b', resourceId: 'r1', kind: 'recording', participantIds: ['other', 'key'] },
      { id: 'd', resourceId: 'r1', kind: 'recording', participantIds: ['other'] },
      { id: 'e', resourceId: 'r1', kind: 'claim', participantIds: ['key'] },
      { id: 'f', resourceId: 'r2', kind: 'recording', participantIds: ['key'] },
    ];
    for (const item of items) await container.items.create(item);
    const query = { select: 'c.id', field: 'participantIds', filter: "c.kind = 'recording'" };
    const ids = async (after: string | undefined, limit: number) => (await itemsNaming<{ id: string }>(container, 'r1', query, 'key', after, limit)).map((r) => r.id);
    expect(await ids(undefined, 2)).toEqual(['a', 'b']);
    expect(await ids('b', 2)).toEqual(['c']);
    expect(await ids(undefined, 10)).toEqual(['a', 'b', 'c']);
    // Without a filter, every kind.
    expect((await itemsNaming<{ id: string }>(container, 'r1', { select: 'c.id', field: 'participantIds' }, 'key', undefined, 10)).map((r) => r.id)).toEqual(['a', 'b', 'c', 'e']);
  });
});
