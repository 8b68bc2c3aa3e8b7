import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;
const path = '/events/:sendTest?api-version=2025-01-01';
const body = JSON.stringify({ count: 1 });

beforeAll(async () => {
  stack = await startTestStack();
  resource = await stack.createResource('hmac-main', 'Europe');
  other = await stack.createResource('hmac-other', 'Europe');
});
afterAll(async () => {
  await stack?.stop();
});

const send = (overrides: Partial<Parameters<TestStack['signed']>[0]> = {}) =>
  stack.signed({ method: 'POST', endpoint: resource.endpoint, path, key: resource.primaryKey, body, ...overrides });

describe('HMAC authentication of resource-key requests', () => {
  it('accepts a request signed with the primary key and one signed with the secondary key', async () => {
    expect((await send()).status).toBe(202);
    expect((await send({ key: resource.secondaryKey })).status).toBe(202);
  });

  it('refuses a bad signature', async () => {
    const response = await send({ key: Buffer.alloc(64, 7).toString('base64') });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('Unauthorized');
  });

  it('refuses a date more than 15 minutes old, and accepts one 14 minutes old', async () => {
    expect((await send({ date: new Date(Date.now() - 16 * 60_000) })).status).toBe(401);
    expect((await send({ date: new Date(Date.now() - 14 * 60_000) })).status).toBe(202);
  });

  it('refuses a body changed after signing', async () => {
    const response = await send({ sendBody: JSON.stringify({ count: 2 }) });
    expect(response.status).toBe(401);
  });

  it("refuses another resource's key", async () => {
    expect((await send({ key: other.primaryKey })).status).toBe(401);
  });

  it('refuses a key that was regenerated, at once, and accepts the new one', async () => {
    const before = await send({ key: resource.secondaryKey });
    expect(before.status).toBe(202);
    const regenerated = await stack.management('POST', '/api/management/resources/hmac-main/regenerateKey', { key: 'secondary' });
    expect((await send({ key: resource.secondaryKey })).status).toBe(401);
    expect((await send({ key: regenerated.body.secondaryKey })).status).toBe(202);
  });

  it('answers every failure with the same message, so the caller cannot tell which part failed', async () => {
    const failures = await Promise.all([
      send({ key: other.primaryKey }),
      send({ date: new Date(Date.now() - 60 * 60_000) }),
      send({ sendBody: '{"count":3}' }),
    ]);
    const messages = new Set(failures.map((f) => f.body.error.message));
    expect(failures.map((f) => f.status)).toEqual([401, 401, 401]);
    expect(messages.size).toBe(1);
  });

  it('answers an unknown resource like a bad signature, and a missing resource parameter with 400', async () => {
    const unknown = await stack.signed({ method: 'POST', endpoint: `${stack.httpsUrl}/?resource=ghost`, path, key: resource.primaryKey, body });
    expect(unknown.status).toBe(401);
    const missing = await stack.signed({ method: 'POST', endpoint: `${stack.httpsUrl}/`, path, key: resource.primaryKey, body });
    expect(missing.status).toBe(400);
    expect(missing.body.error.target).toBe('resource');
  });

  it('validates the body after authentication and names the field', async () => {
    const response = await send({ body: JSON.stringify({ count: 1000 }) });
    expect(response.status).toBe(400);
    expect(response.body.error.target).toBe('count');
  });
});
