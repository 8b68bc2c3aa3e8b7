import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { ServiceError } from '../../shared/errors/service-error.js';
import { signAccessToken } from '../../shared/identity/access-tokens.js';
import { TokenKeyRing } from '../../shared/identity/token-key-ring.js';
import type { Resource } from '../../shared/resources/resource.js';
import { createServices, type Services } from '../../shared/services.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let svc: Services;
let europe: Resource;
let japan: Resource;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { RATE_LIMIT_IDENTITY_CREATE: '1000000', RATE_LIMIT_IDENTITY_DELETE: '1000000' } });
  svc = createServices(parseSettings(stack.env), { clock });
  await stack.createResource('tokens-eu', 'Europe');
  await stack.createResource('tokens-jp', 'Japan');
  europe = (await svc.resources.resolveActive('tokens-eu'))!;
  japan = (await svc.resources.resolveActive('tokens-jp'))!;
});
afterAll(async () => {
  svc?.dispose();
  await stack?.stop();
});

async function rejects401(promise: Promise<unknown>): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(ServiceError);
  await expect(promise).rejects.toMatchObject({ code: 'Unauthorized' });
}

describe('access tokens', () => {
  it('verifies a fresh token and tells who is calling with which scopes', async () => {
    const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat', 'voip'] });
    const caller = await svc.identities.verify(europe, accessToken!.token);
    expect(caller).toMatchObject({ identityId: identity.id, scopes: ['chat', 'voip'] });
  });

  it('stops working immediately after revocation, including a token issued in the same millisecond; later tokens work', async () => {
    const { identity } = await svc.identities.create(europe, {});
    const first = await svc.identities.issueToken(europe, identity.id, ['chat']);
    const sameInstant = await svc.identities.issueToken(europe, identity.id, ['chat']);
    await svc.identities.revokeTokens(europe, identity.id);
    await rejects401(svc.identities.verify(europe, first.token));
    await rejects401(svc.identities.verify(europe, sameInstant.token));
    const after = await svc.identities.issueToken(europe, identity.id, ['chat']);
    await expect(svc.identities.verify(europe, after.token)).resolves.toMatchObject({ identityId: identity.id });
  });

  it('sees a revocation made by another instance at once when the cache is off (the default)', async () => {
    const other = createServices(parseSettings(stack.env), { clock });
    try {
      const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
      await expect(svc.identities.verify(europe, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id, scopes: ['chat'] });
      await other.identities.revokeTokens(europe, identity.id);
      await rejects401(svc.identities.verify(europe, accessToken!.token));
    } finally {
      other.dispose();
    }
  });

  it('stops working after the identity is deleted', async () => {
    const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
    await svc.identities.delete(europe, identity.id);
    await rejects401(svc.identities.verify(europe, accessToken!.token));
    await expect(svc.identities.issueToken(europe, identity.id, ['chat'])).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('is accepted only for its own resource', async () => {
    const { accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
    await rejects401(svc.identities.verify(japan, accessToken!.token));
  });

  it('is refused once it has expired, and not a second before', async () => {
    const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat'], expiresInMinutes: 60 });
    const issuedAt = clock.now().getTime();
    try {
      clock.set(new Date(Math.floor(issuedAt / 1000) * 1000 + 3600_000 - 1000));
      await expect(svc.identities.verify(europe, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id });
      clock.set(new Date(Math.floor(issuedAt / 1000) * 1000 + 3600_000));
      await rejects401(svc.identities.verify(europe, accessToken!.token));
    } finally {
      clock.set(new Date(issuedAt));
    }
  });

  it('refuses tampered and foreign tokens', async () => {
    const { accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
    const [header, payload, signature] = accessToken!.token.split('.');
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), acsScope: 'chat,voip' })).toString('base64url');
    await rejects401(svc.identities.verify(europe, `${header}.${forged}.${signature}`));
    await rejects401(svc.identities.verify(europe, 'not-a-jwt'));
    await rejects401(svc.identities.verify(europe, `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`));
  });

  it('keeps tokens signed with the previous key valid after a rotation, until they expire', async () => {
    const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
    const rotated = await stack.management('POST', '/api/management/tokenKeys/rotate');
    expect(rotated.status).toBe(200);
    const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
    // A fresh set of services: nothing cached from before the rotation.
    const fresh = createServices(parseSettings(stack.env), { clock });
    const start = clock.now();
    try {
      await expect(fresh.identities.verify(europe, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id });
      const { accessToken: newer } = await fresh.identities.create(europe, { scopes: ['chat'] });
      expect(kidOf(newer!.token)).toBe(rotated.body.kid);
      expect(kidOf(newer!.token)).not.toBe(kidOf(accessToken!.token));
      // A day later the old key is retired for good (its last token has expired by then).
      clock.advance(1440 * 60_000 + 1000);
      await rejects401(fresh.identities.verify(europe, accessToken!.token));
    } finally {
      clock.set(start);
      fresh.dispose();
    }
  });
});

describe('access token claims: issuer and a bounded lifetime', () => {
  /** Signs with the service's own signing key (the control plane's key ring), claims chosen by the test. */
  async function signed(input: { issuer?: string; issuedAt?: Date; expiresInMinutes?: number }): Promise<{ token: string; identityId: string }> {
    const { identity } = await svc.identities.create(europe, {});
    const keyRing = new TokenKeyRing(svc.control, clock, { rotationDays: svc.settings.tokenKeyRotationDays, maxTokenLifetimeMs: 1440 * 60_000, cacheMs: 0 });
    const { token } = await signAccessToken(keyRing, {
      identityId: identity.id,
      resourceId: europe.id,
      geography: 'Europe',
      scopes: ['chat'],
      generation: 0,
      now: input.issuedAt ?? clock.now(),
      expiresInMinutes: input.expiresInMinutes ?? 60,
      issuer: input.issuer ?? svc.settings.tokenIssuer,
    });
    return { token, identityId: identity.id };
  }

  /** The same token at the HTTP boundary: a chat request with it as the bearer token. */
  async function chatStatus(token: string): Promise<number> {
    const response = await fetch(`${stack.httpUrl}/chat/threads?resource=tokens-eu&api-version=2025-03-15`, { headers: { authorization: `Bearer ${token}` } });
    await response.body?.cancel();
    return response.status;
  }

  it('accepts a token signed with the service key and the service issuer (the control case)', async () => {
    const { token, identityId } = await signed({});
    await expect(svc.identities.verify(europe, token)).resolves.toMatchObject({ identityId });
    expect(await chatStatus(token)).toBe(200);
  });

  it('refuses a token with another issuer (401)', async () => {
    const { token } = await signed({ issuer: 'someone-else' });
    await rejects401(svc.identities.verify(europe, token));
    expect(await chatStatus(token)).toBe(401);
  });

  it('refuses a token issued in the future beyond the clock skew (60 s), and accepts one within it', async () => {
    const ahead = (seconds: number) => new Date(Math.floor(clock.now().getTime() / 1000) * 1000 + seconds * 1000);
    const future = await signed({ issuedAt: ahead(10 * 60) });
    await rejects401(svc.identities.verify(europe, future.token));
    expect(await chatStatus(future.token)).toBe(401);
    await rejects401(svc.identities.verify(europe, (await signed({ issuedAt: ahead(61) })).token));
    const within = await signed({ issuedAt: ahead(60) });
    await expect(svc.identities.verify(europe, within.token)).resolves.toMatchObject({ identityId: within.identityId });
  });

  it('refuses a token that lasts longer than the longest lifetime the service issues (1441 minutes), and accepts the limit (1440)', async () => {
    const tooLong = await signed({ expiresInMinutes: 1441 });
    await rejects401(svc.identities.verify(europe, tooLong.token));
    expect(await chatStatus(tooLong.token)).toBe(401);
    const limit = await signed({ expiresInMinutes: 1440 });
    await expect(svc.identities.verify(europe, limit.token)).resolves.toMatchObject({ identityId: limit.identityId });
    expect(await chatStatus(limit.token)).toBe(200);
    // A token the service itself issues at its longest lifetime verifies too.
    const { identity, accessToken } = await svc.identities.create(europe, { scopes: ['chat'], expiresInMinutes: 1440 });
    await expect(svc.identities.verify(europe, accessToken!.token)).resolves.toMatchObject({ identityId: identity.id });
  });
});
