import type { Container } from '@azure/cosmos';
import { decodeProtectedHeader, decodeJwt, SignJWT } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { ServiceError } from '../../shared/errors/service-error.js';
import { signAccessToken, verifyAccessTokenSignature } from '../../shared/identity/access-tokens.js';
import { TokenKeyRing, type SigningKey } from '../../shared/identity/token-key-ring.js';
import { ControlStore, type ControlContainerName } from '../../shared/stores/control-store.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * The token signing key ring against the embedded Cosmos server, without a stack: how often it reads
 * the store (its cache, to the millisecond), and how two instances rotating at once end with one
 * current key (the etag check, a conflict retried, any other error passed on). Then the claims
 * `signAccessToken` writes and what `verifyAccessTokenSignature` refuses, at each boundary.
 */
const cosmos = useEmbeddedCosmos();

const DAY = 86_400_000;
const OPTIONS = { rotationDays: 30, maxTokenLifetimeMs: 1440 * 60_000, cacheMs: 60_000 };
let databases = 0;

/** What another instance (or a failing store) does just before this ring writes the key ring document. */
interface Meddling {
  beforeReplace?: () => Promise<void>;
  beforeCreate?: () => Promise<void>;
}

/** The control store with the signing keys' writes observed (and meddled with); reads go straight through. */
class ObservedControlStore extends ControlStore {
  replaces = 0;
  creates = 0;
  meddling: Meddling = {};

  override async container(name: ControlContainerName): Promise<Container> {
    const real = await super.container(name);
    return {
      item: (id: string, partitionKey: string) => ({
        read: () => real.item(id, partitionKey).read(),
        replace: async (body: unknown, options: unknown) => {
          this.replaces += 1;
          await this.meddling.beforeReplace?.();
          return real.item(id, partitionKey).replace(body as never, options as never);
        },
      }),
      items: {
        create: async (body: unknown) => {
          this.creates += 1;
          await this.meddling.beforeCreate?.();
          return real.items.create(body as never);
        },
      },
    } as unknown as Container;
  }
}

/** A fresh key ring document (its own database), the store for it, and a way to read it as stored. */
async function freshRing(clock = new ManualClock('2026-01-01T00:00:00Z')) {
  const databaseId = `key-ring-${(databases += 1)}`;
  const store = new ObservedControlStore(async () => cosmos.client(), databaseId);
  await store.container('signingKeys');
  const stored = async (): Promise<SigningKey[]> => {
    const { resource } = await cosmos.client().database(databaseId).container('signingKeys').item('access-token-keys', 'access-token-keys').read<{ keys: SigningKey[] }>();
    return resource?.keys ?? [];
  };
  /** Another instance: its own ring over the same document. */
  const instance = () => new TokenKeyRing(new ControlStore(async () => cosmos.client(), databaseId), clock, OPTIONS);
  return { store, ring: new TokenKeyRing(store, clock, OPTIONS), clock, stored, instance };
}

/** Another instance rewrites the key ring document unchanged: a new etag, the same current key. */
async function rewriteUnchanged(store: ControlStore): Promise<void> {
  const container = cosmos.client().database(store.databaseId).container('signingKeys');
  const { resource } = await container.item('access-token-keys', 'access-token-keys').read();
  await container.items.upsert(resource);
}

/** Store requests `work` makes, counted at the embedded Cosmos server. */
async function requests(work: () => Promise<unknown>): Promise<number> {
  const before = cosmos.emulator().requests();
  await work();
  return cosmos.emulator().requests() - before;
}

describe('the key ring cache', () => {
  it('reads the store again only once cacheMs (60 s) has passed since the last read, to the millisecond', async () => {
    const { ring } = await freshRing();
    const now = vi.spyOn(Date, 'now');
    try {
      const start = 1_800_000_000_000;
      now.mockReturnValue(start);
      const { kid } = await ring.signingKey();
      now.mockReturnValue(start + 59_999);
      expect(await requests(() => ring.signingKey())).toBe(0);
      expect(await requests(() => ring.verificationKey(kid))).toBe(0);
      now.mockReturnValue(start + 60_000);
      expect(await requests(() => ring.signingKey())).toBe(1);
      expect(await requests(() => ring.verificationKey(kid))).toBe(0);
      now.mockReturnValue(start + 120_000);
      expect(await requests(() => ring.verificationKey(kid))).toBe(1);
    } finally {
      now.mockRestore();
    }
  });

  it('looks up a key id the cached ring does not know once more in the store: a key another instance made verifies at once', async () => {
    const { ring, instance } = await freshRing();
    const old = await ring.signingKey();
    const other = instance();
    const rotated = await other.rotate();
    expect(rotated).not.toBe(old.kid);
    expect(await requests(async () => expect(await ring.verificationKey(rotated)).toBeDefined())).toBe(1);
    // An id no ring ever made: one fresh read, then nothing.
    expect(await requests(async () => expect(await ring.verificationKey('no-such-key')).toBeUndefined())).toBe(1);
  });
});

describe('rotation', () => {
  it('rotates an empty ring (no document yet) by creating it with one key', async () => {
    const { ring, stored, store } = await freshRing();
    expect(await ring.verificationKey('no-such-key')).toBeUndefined();
    const kid = await ring.rotate();
    expect(await stored()).toEqual([expect.objectContaining({ kid, createdAt: '2026-01-01T00:00:00.000Z' })]);
    expect((await stored())[0]!.retiredAt).toBeUndefined();
    expect({ creates: store.creates, replaces: store.replaces }).toEqual({ creates: 1, replaces: 0 });
  });

  it('rotate() retires the key current in the store, not the one in its cache', async () => {
    const { ring, instance, stored, clock } = await freshRing();
    const first = (await ring.signingKey()).kid;
    const second = await instance().rotate();
    clock.advance(1000);
    const third = await ring.rotate();
    expect(new Set([first, second, third]).size).toBe(3);
    const keys = await stored();
    expect(keys.map((k) => [k.kid, k.retiredAt])).toEqual([
      [first, '2026-01-01T00:00:00.000Z'],
      [second, '2026-01-01T00:00:01.000Z'],
      [third, undefined],
    ]);
  });

  it('adopts the key of an instance that rotated between its read and its write (412), and makes none of its own', async () => {
    const { ring, store, instance, stored, clock } = await freshRing();
    const first = (await ring.signingKey()).kid;
    clock.advance(31 * DAY);
    let theirs: string | undefined;
    store.meddling.beforeReplace = async () => {
      store.meddling.beforeReplace = undefined;
      theirs = await instance().rotate();
    };
    const { kid } = await ring.signingKey();
    expect(kid).toBe(theirs);
    expect(store.replaces).toBe(1);
    expect((await stored()).map((k) => [k.kid, Boolean(k.retiredAt)])).toEqual([
      [first, true],
      [theirs, false],
    ]);
  });

  it('adopts the key of an instance that created the ring first (409)', async () => {
    const { ring, store, instance, stored } = await freshRing();
    let theirs: string | undefined;
    store.meddling.beforeCreate = async () => {
      store.meddling.beforeCreate = undefined;
      theirs = await instance().rotate();
    };
    const { kid } = await ring.signingKey();
    expect(kid).toBe(theirs);
    expect(store.creates).toBe(1);
    expect((await stored()).map((k) => k.kid)).toEqual([theirs]);
  });

  it('retries after a conflict with what the store holds then, and writes only on the etag it read', async () => {
    const { ring, store, stored, clock } = await freshRing();
    const first = (await ring.signingKey()).kid;
    clock.advance(31 * DAY);
    // Someone rewrites the document unchanged (a new etag, the same current key) just before the first write.
    store.meddling.beforeReplace = async () => {
      store.meddling.beforeReplace = undefined;
      await rewriteUnchanged(store);
    };
    const { kid } = await ring.signingKey();
    expect(store.replaces).toBe(2);
    expect((await stored()).map((k) => [k.kid, Boolean(k.retiredAt)])).toEqual([
      [first, true],
      [kid, false],
    ]);
  });

  it('gives up after 5 conflicting writes with its own error, and leaves the ring as it was', async () => {
    const { ring, store, stored, clock } = await freshRing();
    const first = (await ring.signingKey()).kid;
    clock.advance(31 * DAY);
    store.meddling.beforeReplace = () => rewriteUnchanged(store);
    await expect(ring.signingKey()).rejects.toThrow(new Error('Could not rotate the token signing key: the key ring kept changing'));
    expect(store.replaces).toBe(5);
    expect((await stored()).map((k) => [k.kid, k.retiredAt])).toEqual([[first, undefined]]);
  });

  it('passes any other store error on at once, without retrying', async () => {
    const { ring, store, stored, clock } = await freshRing();
    const first = (await ring.signingKey()).kid;
    clock.advance(31 * DAY);
    const unavailable = Object.assign(new Error('the store is unavailable'), { code: 503 });
    store.meddling.beforeReplace = async () => {
      throw unavailable;
    };
    await expect(ring.signingKey()).rejects.toBe(unavailable);
    expect(store.replaces).toBe(1);
    expect((await stored()).map((k) => k.kid)).toEqual([first]);
  });
});

describe('access token claims', () => {
  const ISSUER = 'https://tokens.test';
  const NOW = new Date('2026-03-01T12:00:00.000Z');
  const IDENTITY = '8:acs:0b5d1c9e-6f9c-4c31-9a7b-3b4b1f4e0a11_00000020-aaaa-bbbb-cccc-0123456789ab';

  /** A token signed with the ring's current key and the claims the test chooses. */
  async function signedWith(ring: TokenKeyRing, claims: { iat: number; exp: number; acsScope?: string }): Promise<string> {
    const { kid, key } = await ring.signingKey();
    return new SignJWT({ skypeid: IDENTITY.slice(2), acsScope: claims.acsScope ?? 'chat', resourceId: 'r', geography: 'Europe', gen: 0 })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
      .setSubject(IDENTITY)
      .setIssuer(ISSUER)
      .setIssuedAt(claims.iat)
      .setExpirationTime(claims.exp)
      .setJti('j')
      .sign(key);
  }

  const verify = (ring: TokenKeyRing, token: string) => verifyAccessTokenSignature(ring, token, NOW, { issuer: ISSUER });
  async function refused(promise: Promise<unknown>): Promise<void> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: 'Unauthorized', message: 'The access token is not valid.', headers: { 'www-authenticate': 'Bearer' } });
  }

  it('writes the header and the claims ACS clients read', async () => {
    const { ring } = await freshRing(new ManualClock(NOW));
    const issued = await signAccessToken(ring, {
      identityId: IDENTITY,
      resourceId: 'resource-1',
      geography: 'Japan',
      scopes: ['chat', 'voip', 'chat'],
      generation: 3,
      now: new Date('2026-03-01T12:00:00.999Z'),
      expiresInMinutes: 90,
      issuer: ISSUER,
    });
    const header = decodeProtectedHeader(issued.token);
    expect(header).toEqual({ alg: 'ES256', kid: (await ring.signingKey()).kid, typ: 'JWT' });
    const claims = decodeJwt(issued.token);
    expect(claims).toEqual({
      sub: IDENTITY,
      skypeid: IDENTITY.slice(2),
      acsScope: 'chat,voip',
      resourceId: 'resource-1',
      geography: 'Japan',
      gen: 3,
      iss: ISSUER,
      iat: NOW.getTime() / 1000,
      exp: NOW.getTime() / 1000 + 90 * 60,
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    expect(issued.expiresOn).toBe('2026-03-01T13:30:00.000Z');
  });

  it('takes an issue time up to 60 s ahead, to the second, and refuses one a second further', async () => {
    const { ring } = await freshRing(new ManualClock(NOW));
    const now = NOW.getTime() / 1000;
    await expect(verify(ring, await signedWith(ring, { iat: now + 60, exp: now + 3600 }))).resolves.toMatchObject({ sub: IDENTITY, scopes: ['chat'] });
    await refused(verify(ring, await signedWith(ring, { iat: now + 61, exp: now + 3600 })));
  });

  it('refuses a lifetime of 0 or less, and of more than 1440 minutes; takes exactly 1440', async () => {
    const { ring } = await freshRing(new ManualClock(NOW));
    const now = NOW.getTime() / 1000;
    await refused(verify(ring, await signedWith(ring, { iat: now + 30, exp: now + 30 })));
    await refused(verify(ring, await signedWith(ring, { iat: now + 30, exp: now + 10 })));
    await refused(verify(ring, await signedWith(ring, { iat: now - 10, exp: now - 10 + 1440 * 60 + 1 })));
    await expect(verify(ring, await signedWith(ring, { iat: now - 10, exp: now - 10 + 1440 * 60 }))).resolves.toMatchObject({ sub: IDENTITY });
  });

  it('keeps only the scopes it knows from the claim', async () => {
    const { ring } = await freshRing(new ManualClock(NOW));
    const now = NOW.getTime() / 1000;
    const token = await signedWith(ring, { iat: now, exp: now + 3600, acsScope: 'chat,admin,voip.join,' });
    await expect(verify(ring, token)).resolves.toMatchObject({ acsScope: 'chat,admin,voip.join,', scopes: ['chat', 'voip.join'] });
  });

  it('refuses a token that is not a JWT, and one whose key id the ring does not hold, with the 401 and its challenge', async () => {
    const { ring } = await freshRing(new ManualClock(NOW));
    await refused(verify(ring, 'not-a-token'));
    const now = NOW.getTime() / 1000;
    const token = await signedWith(ring, { iat: now, exp: now + 3600 });
    const [, payload, signature] = token.split('.');
    const otherKid = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'no-such-key', typ: 'JWT' })).toString('base64url');
    await refused(verify(ring, `${otherKid}.${payload}.${signature}`));
    const noKid = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT' })).toString('base64url');
    await refused(verify(ring, `${noKid}.${payload}.${signature}`));
  });
});
