import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let resource: ResourceView;
// The rate limiter's windows follow this clock, so Retry-After is exact and the window's end can be reached.
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { RATE_LIMIT_IDENTITY_CREATE: '3', RATE_LIMIT_IDENTITY_DELETE: '2', RATE_LIMIT_WINDOW_SECONDS: '30' } });
  resource = await stack.createResource('limits', 'Europe');
});
afterAll(async () => {
  await stack?.stop();
});

const call = (path: string, body = '{}', r = resource) =>
  stack.signed({ method: 'POST', endpoint: r.endpoint, path: `${path}?api-version=2023-10-01`, key: r.primaryKey, body, date: clock.now() });

describe('per-resource rate limits on the identity API', () => {
  it('answers 429 with Retry-After past the create/issue limit, per resource', async () => {
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await call('/identities')).status);
    expect(statuses).toEqual([201, 201, 201, 429]);
    const limited = await call('/identities');
    expect(limited.body.error.code).toBe('TooManyRequests');
    const retryAfter = Number(limited.headers.get('retry-after'));
    // The clock has not moved since the window opened: all of its 30 s are left.
    expect(retryAfter).toBe(30);
    const another = await stack.createResource('limits-other', 'Europe');
    expect((await call('/identities', '{}', another)).status).toBe(201);
    const start = clock.now();
    try {
      // Retry-After is what is left of the window, in whole seconds rounded up.
      clock.advance(12_500);
      expect((await call('/identities')).headers.get('retry-after')).toBe('18');
      clock.set(new Date(start.getTime() + 29_999));
      expect((await call('/identities')).headers.get('retry-after')).toBe('1');
      // At the window's end a new window opens.
      clock.set(new Date(start.getTime() + 30_000));
      expect((await call('/identities')).status).toBe(201);
    } finally {
      clock.set(start);
    }
  });

  it('counts revoke and delete against their own, lower limit', async () => {
    const another = await stack.createResource('limits-revoke', 'Europe');
    const created = await call('/identities', '{}', another);
    const id = encodeURIComponent(created.body.identity.id);
    const revokes = [];
    for (let i = 0; i < 3; i += 1) revokes.push((await call(`/identities/${id}/:revokeAccessTokens`, '', another)).status);
    expect(revokes).toEqual([204, 204, 429]);
  });

  it('requires api-version on the ACS operations', async () => {
    const another = await stack.createResource('limits-version', 'Europe');
    const response = await stack.signed({ method: 'POST', endpoint: another.endpoint, path: '/identities', key: another.primaryKey, body: '{}' });
    expect(response.status).toBe(400);
    expect(response.body.error.target).toBe('api-version');
  });
});
