import type { Container } from '@azure/cosmos';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { RateLimiter } from '../../shared/http/rate-limiter.js';
import { signAccessToken } from '../../shared/identity/access-tokens.js';
import { IdentityService, type IdentityDeletionHook, type IdentityServiceDeps } from '../../shared/identity/identity-service.js';
import type { IdentityRecord } from '../../shared/identity/identity-store.js';
import { TokenKeyRing } from '../../shared/identity/token-key-ring.js';
import type { Resource } from '../../shared/resources/resource.js';
import { ControlStore } from '../../shared/stores/control-store.js';
import { GeoStore } from '../../shared/stores/geo-store.js';
import type { StoreDirectory } from '../../shared/stores/store-directory.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';
import { forward } from '../support/forward.js';

/**
 * The identity service called directly, on the embedded Cosmos server alone, with its own clock:
 * what it stores for a create, a revocation and a deletion; which rate-limit bucket each call counts
 * in; a token of another resource or of a revoked, deleting or deleted identity refused (the exact
 * 401); the revocation cache switched off; the deletion hooks' counts summed; the bounded retries of
 * a revocation that keeps losing the race.
 */
const cosmos = useEmbeddedCosmos();
const ISSUER = 'https://identity-service.test';
const RESOURCE_ID = '0f0e0d0c-0b0a-4909-8807-060504030201';
const OTHER_ID = '1f1e1d1c-1b1a-4919-8817-161514131211';
let databases = 0;

const resourceOf = (id: string): Resource => ({
  id,
  name: `r-${id.slice(0, 4)}`,
  geographyKey: 'japan',
  eventPayloads: 'full',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  keys: { primary: 'p', secondary: 's' },
  state: 'active',
});
const resource = resourceOf(RESOURCE_ID);
const other = resourceOf(OTHER_ID);

/** What the replace of an identity does instead of writing (a lost race, for the retries' bound). */
interface StoreFaults {
  replace?: () => Promise<never>;
  replaces: number;
}

/**
 * A service over a fresh database (its own geography store and key ring). `deps` overrides the
 * service's settings; `faults` changes what the identities container's replace does; `instance()`
 * is another instance of the service (its own caches) over the same stores.
 */
async function fresh(deps: Partial<IdentityServiceDeps> = {}) {
  const databaseId = `identity-service-${(databases += 1)}`;
  const clock = new ManualClock('2026-06-01T12:00:00.000Z');
  const geo = new GeoStore(geographyByKey('japan'), {
    cosmos: async () => cosmos.client(),
    blobs: () => Promise.reject(new Error('no blobs here')),
    databaseId,
    blobContainerPrefix: 'x',
    provision: true,
  });
  const faults: StoreFaults = { replaces: 0 };
  const faulty = async (): Promise<Container> => {
    const real = await geo.container('identities');
    return new Proxy(real, {
      get: (target, prop) =>
        prop === 'item'
          ? (id: string, key: string) =>
              new Proxy(target.item(id, key), {
                get: (item, name) => {
                  if (name !== 'replace') return forward(item, name);
                  return async (...args: Parameters<typeof item.replace>) => {
                    faults.replaces += 1;
                    return faults.replace ? faults.replace() : item.replace(...args);
                  };
                },
              })
          : forward(target, prop),
    });
  };
  const seen = new Proxy(geo, { get: (target, prop) => (prop === 'container' ? faulty : forward(target, prop)) });
  const stores = { forResource: () => seen } as unknown as StoreDirectory;
  const keyRing = new TokenKeyRing(new ControlStore(async () => cosmos.client(), `${databaseId}-control`), clock, {
    rotationDays: 30,
    maxTokenLifetimeMs: 1440 * 60_000,
    cacheMs: 60_000,
  });
  const instance = () =>
    new IdentityService({
      stores,
      keyRing,
      clock,
      rateLimiter: new RateLimiter(() => clock.now().getTime()),
      limits: { windowMs: 60_000, createAndIssue: 100, deleteAndRevoke: 100 },
      revocationCacheMs: 0,
      inFlightDrainMs: 1_000,
      issuer: ISSUER,
      deletionHooks: [],
      ...deps,
    });
  const stored = async (id: string): Promise<IdentityRecord | undefined> => {
    const { resource: record } = await (await geo.container('identities')).item(id, id).read<IdentityRecord>();
    return record;
  };
  return { service: instance(), instance, clock, geo: seen, keyRing, faults, stored };
}

/** Runs `work` with `Date.now()` (the revocation cache's clock) answering what `set` last gave it; restored after. */
async function atWallClock(work: (set: (ms: number) => void) => Promise<void>): Promise<void> {
  const now = vi.spyOn(Date, 'now');
  try {
    await work((ms) => now.mockReturnValue(ms));
  } finally {
    now.mockRestore();
  }
}

const UNAUTHORIZED = { code: 'Unauthorized', message: 'The access token is not valid.', headers: { 'www-authenticate': 'Bearer' } };

describe('creating identities and issuing tokens', () => {
  it('creates an identity without a token when no scopes are given, and with one when they are', async () => {
    const { service, stored } = await fresh();
    const bare = await service.create(resource, {});
    expect(bare).toStrictEqual({ identity: { id: bare.identity.id } });
    expect(await stored(bare.identity.id)).toMatchObject({ id: bare.identity.id, resourceId: RESOURCE_ID, createdAt: '2026-06-01T12:00:00.000Z', tokenGeneration: 0 });
    const withToken = await service.create(resource, { scopes: ['chat'], expiresInMinutes: 60 });
    expect(withToken.accessToken?.expiresOn).toBe('2026-06-01T13:00:00.000Z');
    expect(decodeJwt(withToken.accessToken!.token)).toMatchObject({ sub: withToken.identity.id, acsScope: 'chat', gen: 0 });
  });

  it('counts creates and token issues in one bucket per resource, and revocations and deletions in another', async () => {
    const { service } = await fresh({ limits: { windowMs: 60_000, createAndIssue: 3, deleteAndRevoke: 2 } });
    const a = (await service.create(resource, {})).identity.id;
    await service.create(resource, {});
    await service.issueToken(resource, a, ['chat']);
    // The fourth of creates and issues together is refused, an issue as much as a create.
    await expect(service.issueToken(resource, a, ['chat'])).rejects.toMatchObject({ code: 'TooManyRequests', headers: { 'retry-after': '60' } });
    await expect(service.create(resource, {})).rejects.toMatchObject({ code: 'TooManyRequests' });
    // Revocations and deletions have their own bucket: two, whichever they are.
    await service.revokeTokens(resource, a);
    await service.delete(resource, a);
    await expect(service.revokeTokens(resource, a)).rejects.toMatchObject({ code: 'TooManyRequests' });
    // Another resource's buckets are its own.
    const b = (await service.create(other, {})).identity.id;
    await service.revokeTokens(other, b);
  });

  it('issues no token for an identity being deleted, gone, or of another resource: 404 naming the id, or 401', async () => {
    const { service } = await fresh();
    const { identity } = await service.create(resource, {});
    await service.beginDeletion(resource, identity.id);
    const notFound = { code: 'NotFound', message: "Provided identity doesn't exist.", target: 'id' };
    await expect(service.issueToken(resource, identity.id, ['chat'])).rejects.toMatchObject(notFound);
    await expect(service.issueToken(resource, `8:acs:${RESOURCE_ID}_never-made`, ['chat'])).rejects.toMatchObject(notFound);
    await expect(service.issueToken(resource, `8:acs:${OTHER_ID}_x`, ['chat'])).rejects.toMatchObject({
      code: 'IdentityNotOwned',
      message: "Provided identity doesn't belong to the resource.",
    });
    await expect(service.revokeTokens(resource, identity.id)).rejects.toMatchObject(notFound);
  });
});

describe('deletion', () => {
  it('marks the identity as being deleted once, at the first call: its generation moves on, and a second call keeps the time', async () => {
    const { service, clock, stored } = await fresh();
    const { identity } = await service.create(resource, {});
    expect(await service.isUsable(resource, identity.id)).toBe(true);
    await service.beginDeletion(resource, identity.id);
    expect(await stored(identity.id)).toMatchObject({ tokenGeneration: 1, tokensRevokedAt: '2026-06-01T12:00:00.000Z', deletingSince: '2026-06-01T12:00:00.000Z' });
    expect(await service.isUsable(resource, identity.id)).toBe(false);
    clock.advance(5_000);
    await service.beginDeletion(resource, identity.id);
    expect(await stored(identity.id)).toMatchObject({ tokenGeneration: 2, tokensRevokedAt: '2026-06-01T12:00:05.000Z', deletingSince: '2026-06-01T12:00:00.000Z' });
    const removed = await service.delete(resource, identity.id);
    expect(removed).toStrictEqual({ identities: 1 });
    expect(await stored(identity.id)).toBeUndefined();
    expect(await service.isUsable(resource, identity.id)).toBe(false);
  });

  it('runs every deletion hook, added at construction or later, with the identity and its geography, and sums their counts by kind', async () => {
    const calls: string[] = [];
    const first: IdentityDeletionHook = async ({ identityId }) => {
      calls.push(`first ${identityId}`);
      return { messages: 2, threads: 1 };
    };
    const { service, geo } = await fresh({ deletionHooks: [first] });
    const second = vi.fn<IdentityDeletionHook>(async ({ identityId }) => {
      calls.push(`second ${identityId}`);
      return { messages: 3, participations: 4 };
    });
    service.addDeletionHook(second);
    const { identity } = await service.create(resource, {});
    expect(await service.eraseLeftovers(resource, identity.id)).toStrictEqual({ messages: 5, threads: 1, participations: 4 });
    expect(calls).toEqual([`first ${identity.id}`, `second ${identity.id}`]);
    const [argument] = second.mock.calls[0]!;
    expect(Object.keys(argument).sort()).toEqual(['geo', 'identityId', 'resource']);
    expect(argument.resource).toBe(resource);
    expect(argument.geo).toBe(geo);
    expect(argument.identityId).toBe(identity.id);
    expect(await service.delete(resource, identity.id)).toStrictEqual({ messages: 5, threads: 1, participations: 4, identities: 1 });
  });

  it('waits for a request of the identity under way on this instance before it erases, and passes the request its answer', async () => {
    const { service, stored } = await fresh();
    const { identity } = await service.create(resource, {});
    const steps: string[] = [];
    let finish!: () => void;
    const underWay = service.whileUnderWay(identity.id, async () => {
      await new Promise<void>((resolve) => (finish = resolve));
      steps.push('request done');
      return 'answer';
    });
    const deletion = service.beginDeletion(resource, identity.id).then(() => steps.push('deletion may erase'));
    // The identity is marked (no new request of it starts), and the deletion still waits.
    await vi.waitFor(async () => expect((await stored(identity.id))?.deletingSince).toBe('2026-06-01T12:00:00.000Z'));
    expect(steps).toEqual([]);
    finish();
    expect(await underWay).toBe('answer');
    await deletion;
    expect(steps).toEqual(['request done', 'deletion may erase']);
  });

  it('gives up a revocation that loses the race 10 times with a Conflict naming the identity, and changes nothing', async () => {
    const { service, faults, stored } = await fresh();
    const { identity } = await service.create(resource, {});
    faults.replace = () => Promise.reject(Object.assign(new Error('precondition failed'), { code: 412 }));
    await expect(service.revokeTokens(resource, identity.id)).rejects.toMatchObject({
      code: 'Conflict',
      message: `Identity '${identity.id}' is being changed concurrently; try again.`,
    });
    expect(faults.replaces).toBe(10);
    expect(await stored(identity.id)).toMatchObject({ tokenGeneration: 0 });
    expect((await stored(identity.id))?.tokensRevokedAt).toBeUndefined();
  });
});

describe('verifying tokens', () => {
  it('accepts a current token with its identity, scopes and expiry, to the second', async () => {
    const { service } = await fresh();
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat', 'voip'], expiresInMinutes: 90 });
    expect(await service.verify(resource, accessToken!.token)).toStrictEqual({
      identityId: identity.id,
      scopes: ['chat', 'voip'],
      expiresAt: new Date('2026-06-01T13:30:00.000Z'),
    });
  });

  it('refuses a revoked token, and one of an identity being deleted or deleted, with the exact 401', async () => {
    const { service } = await fresh();
    const revoked = await service.create(resource, { scopes: ['chat'] });
    await service.revokeTokens(resource, revoked.identity.id);
    await expect(service.verify(resource, revoked.accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
    // A token issued after the revocation is current.
    const fresher = await service.issueToken(resource, revoked.identity.id, ['chat']);
    await expect(service.verify(resource, fresher.token)).resolves.toMatchObject({ identityId: revoked.identity.id });
    const deleting = await service.create(resource, { scopes: ['chat'] });
    const claims = await service.verifySignature(resource, deleting.accessToken!.token);
    await service.beginDeletion(resource, deleting.identity.id);
    // Even with the token's generation written as the identity's current one.
    await expect(service.verifyCurrent(resource, { ...claims, gen: 1 })).rejects.toMatchObject(UNAUTHORIZED);
    await service.delete(resource, deleting.identity.id);
    await expect(service.verifyCurrent(resource, { ...claims, gen: 1 })).rejects.toMatchObject(UNAUTHORIZED);
  });

  it('signs with the key a rotation makes, and refuses a token of another issuer', async () => {
    const { service, keyRing, clock } = await fresh();
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    const kid = await service.rotateSigningKey();
    expect((await keyRing.signingKey()).kid).toBe(kid);
    const after = await service.issueToken(resource, identity.id, ['chat']);
    expect(decodeProtectedHeader(after.token).kid).toBe(kid);
    expect(decodeProtectedHeader(accessToken!.token).kid).not.toBe(kid);
    await expect(service.verify(resource, after.token)).resolves.toMatchObject({ identityId: identity.id });
    const foreign = await signAccessToken(keyRing, {
      identityId: identity.id,
      resourceId: RESOURCE_ID,
      geography: 'Japan',
      scopes: ['chat'],
      generation: 0,
      now: clock.now(),
      expiresInMinutes: 60,
      issuer: 'https://another-issuer.test',
    });
    await expect(service.verify(resource, foreign.token)).rejects.toMatchObject(UNAUTHORIZED);
  });

  it("refuses a token issued for another resource, whether its resource claim or its identity's resource differs", async () => {
    const { service, keyRing, clock } = await fresh();
    const mine = (await service.create(resource, {})).identity.id;
    const theirs = (await service.create(other, {})).identity.id;
    const sign = (identityId: string, resourceId: string) =>
      signAccessToken(keyRing, { identityId, resourceId, geography: 'Japan', scopes: ['chat'], generation: 0, now: clock.now(), expiresInMinutes: 60, issuer: ISSUER });
    // The same signing path, with both parts ours, verifies: the refusals below are for the resource alone.
    await expect(service.verify(resource, (await sign(mine, RESOURCE_ID)).token)).resolves.toMatchObject({ identityId: mine });
    await expect(service.verify(resource, (await sign(mine, OTHER_ID)).token)).rejects.toMatchObject(UNAUTHORIZED);
    await expect(service.verify(resource, (await sign(theirs, RESOURCE_ID)).token)).rejects.toMatchObject(UNAUTHORIZED);
    await expect(service.verify(resource, (await sign(theirs, OTHER_ID)).token)).rejects.toMatchObject(UNAUTHORIZED);
  });

  it('reads the revocation from the store at every check when the cache is off, even when the wall clock steps back', async () => {
    const { service, instance } = await fresh({ revocationCacheMs: 0 });
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    await atWallClock(async (set) => {
      set(1_800_000_000_000);
      await service.verify(resource, accessToken!.token);
      // Another instance revokes; this instance's clock then reads 1 ms earlier (a wall clock adjustment).
      await instance().revokeTokens(resource, identity.id);
      set(1_799_999_999_999);
      await expect(service.verify(resource, accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
    });
  });

  it('with the cache on, takes another instance’s revocation into account once revocationCacheMs has passed, to the millisecond', async () => {
    const { service, instance } = await fresh({ revocationCacheMs: 5_000 });
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    await atWallClock(async (set) => {
      set(1_800_000_000_000);
      await service.verify(resource, accessToken!.token);
      await instance().revokeTokens(resource, identity.id);
      set(1_800_000_004_999);
      await expect(service.verify(resource, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id });
      set(1_800_000_005_000);
      await expect(service.verify(resource, accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
      // A revocation on this instance is seen at once.
      const second = await service.issueToken(resource, identity.id, ['chat']);
      await service.verify(resource, second.token);
      await service.revokeTokens(resource, identity.id);
      await expect(service.verify(resource, second.token)).rejects.toMatchObject(UNAUTHORIZED);
    });
  });

  it('with the cache on, keeps what the check after a write read: it serves the next lookups for revocationCacheMs from its read', async () => {
    const { service, instance } = await fresh({ revocationCacheMs: 5_000 });
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    await atWallClock(async (set) => {
      set(1_800_000_000_000);
      await service.verify(resource, accessToken!.token);
      set(1_800_000_004_000);
      expect(await service.isUsable(resource, identity.id)).toBe(true);
      await instance().revokeTokens(resource, identity.id);
      // The lookup's own entry has expired; the check's (read at 4 000) holds until 9 000.
      set(1_800_000_008_999);
      await expect(service.verify(resource, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id });
      set(1_800_000_009_000);
      await expect(service.verify(resource, accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
    });
  });

  it('with the cache on, a check that finds the identity being deleted makes the next lookups refuse at once', async () => {
    const { service, instance } = await fresh({ revocationCacheMs: 5_000 });
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    await atWallClock(async (set) => {
      set(1_800_000_000_000);
      await service.verify(resource, accessToken!.token);
      // Another instance begins deleting it; this instance's lookup alone would still take the token until 5 000.
      await instance().beginDeletion(resource, identity.id);
      set(1_800_000_000_001);
      expect(await service.isUsable(resource, identity.id)).toBe(false);
      await expect(service.verify(resource, accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
    });
  });

  it('with the cache off, the check after a write keeps nothing', async () => {
    const { service, instance } = await fresh({ revocationCacheMs: 0 });
    const { identity, accessToken } = await service.create(resource, { scopes: ['chat'] });
    expect(await service.isUsable(resource, identity.id)).toBe(true);
    await instance().revokeTokens(resource, identity.id);
    await expect(service.verify(resource, accessToken!.token)).rejects.toMatchObject(UNAUTHORIZED);
  });
});
