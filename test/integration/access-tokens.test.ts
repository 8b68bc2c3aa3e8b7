import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { ServiceError } from '../../shared/errors/service-error.js';
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
      await expect(svc.identities.verify(europe, accessToken!.token)).resolves.toBeDefined();
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
    const { accessToken } = await svc.identities.create(europe, { scopes: ['chat'], expiresInMinutes: 60 });
    const issuedAt = clock.now().getTime();
    clock.set(new Date(Math.floor(issuedAt / 1000) * 1000 + 3600_000 - 1000));
    await expect(svc.identities.verify(europe, accessToken!.token)).resolves.toBeDefined();
    clock.set(new Date(Math.floor(issuedAt / 1000) * 1000 + 3600_000));
    await rejects401(svc.identities.verify(europe, accessToken!.token));
    clock.set(new Date(issuedAt));
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
    const { accessToken } = await svc.identities.create(europe, { scopes: ['chat'] });
    const rotated = await stack.management('POST', '/api/management/tokenKeys/rotate');
    expect(rotated.status).toBe(200);
    const kidOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid as string;
    // A fresh set of services: nothing cached from before the rotation.
    const fresh = createServices(parseSettings(stack.env), { clock });
    try {
      await expect(fresh.identities.verify(europe, accessToken!.token)).resolves.toBeDefined();
      const { accessToken: newer } = await fresh.identities.create(europe, { scopes: ['chat'] });
      expect(kidOf(newer!.token)).toBe(rotated.body.kid);
      expect(kidOf(newer!.token)).not.toBe(kidOf(accessToken!.token));
      // A day later the old key is retired for good (its last token has expired by then).
      clock.advance(1440 * 60_000 + 1000);
      await rejects401(fresh.identities.verify(europe, accessToken!.token));
      clock.advance(-(1440 * 60_000 + 1000));
    } finally {
      fresh.dispose();
    }
  });
});
