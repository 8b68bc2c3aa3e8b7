import type { Container } from '@azure/cosmos';
import { beforeAll, describe, expect, it } from 'vitest';
import { IdentityStore, type IdentityRecord } from '../../shared/identity/identity-store.js';
import type { GeoStore } from '../../shared/stores/geo-store.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * The identity store adapter against the embedded Cosmos server alone: a replace only over what was
 * read (412 is `false`, anything else passed on), a delete that is `false` for an identity already
 * gone and passes any other error on.
 */
const { client } = useEmbeddedCosmos();
let container: Container;
let store: IdentityStore;
const over = (c: unknown) => new IdentityStore({ container: async () => c } as unknown as GeoStore);

beforeAll(async () => {
  const { database } = await client().databases.createIfNotExists({ id: 'identity-store' });
  ({ container } = await database.containers.createIfNotExists({ id: 'identities', partitionKey: { paths: ['/id'] } }));
  store = over(container);
});

const record = (id: string): IdentityRecord => ({ id, resourceId: 'r', createdAt: '2026-12-03T00:00:00.000Z', tokenGeneration: 0 });

describe('the identity store', () => {
  it('replaces an identity only as it was read: a write in between makes the replace false and changes nothing', async () => {
    await store.create(record('8:acs:r_a'));
    const read = (await store.get('8:acs:r_a'))!;
    expect(await store.replace({ ...read, tokenGeneration: 1 })).toBe(true);
    const current = (await store.get('8:acs:r_a'))!;
    expect(current.tokenGeneration).toBe(1);
    // The first read is stale now.
    expect(await store.replace({ ...read, tokenGeneration: 5 })).toBe(false);
    expect((await store.get('8:acs:r_a'))!).toMatchObject({ tokenGeneration: 1, _etag: current._etag });
    // Without an etag the replace is unconditional.
    const { _etag, ...unread } = current;
    expect(await store.replace({ ...unread, tokenGeneration: 7 })).toBe(true);
    expect((await store.get('8:acs:r_a'))!.tokenGeneration).toBe(7);
  });

  it('passes on any other error of a replace: an identity that is gone is a 404, not a lost race', async () => {
    await expect(store.replace({ ...record('8:acs:r_gone'), _etag: '"x"' })).rejects.toMatchObject({ code: 404 });
    await expect(store.replace(record('8:acs:r_gone'))).rejects.toMatchObject({ code: 404 });
    expect(await store.get('8:acs:r_gone')).toBeUndefined();
  });

  it('deletes an identity once: true, then false when it is already gone; any other error is passed on', async () => {
    await store.create(record('8:acs:r_b'));
    expect(await store.delete('8:acs:r_b')).toBe(true);
    expect(await store.get('8:acs:r_b')).toBeUndefined();
    expect(await store.delete('8:acs:r_b')).toBe(false);
    const failing = over({ item: () => ({ delete: async () => Promise.reject(Object.assign(new Error('unavailable'), { code: 503 })) }) });
    await expect(failing.delete('8:acs:r_c')).rejects.toMatchObject({ code: 503 });
  });
});
