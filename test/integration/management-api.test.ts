import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

describe('management API: resources', () => {
  it('creates a resource in Europe and one in Japan, with ids, endpoints and connection strings', async () => {
    const europe = await stack.management('PUT', '/api/management/resources/contoso-eu', { geography: 'Europe' });
    expect(europe.status).toBe(201);
    expect(europe.body).toMatchObject({ name: 'contoso-eu', geography: 'Europe', state: 'active' });
    expect(europe.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(europe.body.endpoint).toBe(`${stack.httpsUrl}/?resource=contoso-eu`);
    expect(europe.body.connectionString).toBe(`endpoint=${europe.body.endpoint};accesskey=${europe.body.primaryKey}`);
    expect(Buffer.from(europe.body.primaryKey, 'base64')).toHaveLength(64);

    const japan = await stack.management('PUT', '/api/management/resources/contoso-jp', { geography: 'japan' });
    expect(japan.status).toBe(201);
    expect(japan.body.geography).toBe('Japan');
    expect(japan.body.regions).toEqual(['japaneast', 'japanwest']);
    expect(japan.body.id).not.toBe(europe.body.id);
  });

  it('accepts geography names case-insensitively and answers a repeated PUT with 200 and the same resource', async () => {
    const first = await stack.management('PUT', '/api/management/resources/repeat-me', { geography: 'united states' });
    const again = await stack.management('PUT', '/api/management/resources/repeat-me', { geography: 'United States' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.primaryKey).toBe(first.body.primaryKey);
  });

  it('refuses to change the geography with 409 and a message saying it is fixed at creation', async () => {
    await stack.createResource('fixed-geo', 'France');
    const moved = await stack.management('PUT', '/api/management/resources/fixed-geo', { geography: 'Germany' });
    expect(moved.status).toBe(409);
    expect(moved.body.error.code).toBe('Conflict');
    expect(moved.body.error.message).toMatch(/fixed at creation/);
    expect(moved.body.error.target).toBe('geography');
    const unchanged = await stack.management('GET', '/api/management/resources/fixed-geo');
    expect(unchanged.body.geography).toBe('France');
  });

  it('updates eventPayloads on a repeated PUT', async () => {
    await stack.createResource('payloads', 'Canada');
    const updated = await stack.management('PUT', '/api/management/resources/payloads', { geography: 'Canada', eventPayloads: 'minimal' });
    expect(updated.status).toBe(200);
    expect(updated.body.eventPayloads).toBe('minimal');
  });

  it('lists resources without keys and gets one with keys', async () => {
    const created = await stack.createResource('listed', 'Norway');
    const list = await stack.management('GET', '/api/management/resources');
    expect(list.status).toBe(200);
    const listed = list.body.value.find((r: { name: string }) => r.name === 'listed');
    expect(listed).toMatchObject({ geography: 'Norway' });
    expect(listed.primaryKey).toBeUndefined();
    // No resource in the list carries a key or a connection string.
    const withKeys = (list.body.value as Record<string, unknown>[]).filter((r) => ['primaryKey', 'secondaryKey', 'connectionString'].some((k) => k in r));
    expect(withKeys).toEqual([]);
    const one = await stack.management('GET', '/api/management/resources/listed');
    expect(one.body.primaryKey).toBeTypeOf('string');
    expect(one.body).toMatchObject({ id: created.id, primaryKey: created.primaryKey, secondaryKey: created.secondaryKey, connectionString: created.connectionString });
    expect((await stack.management('GET', '/api/management/resources/nope')).status).toBe(404);
  });

  it('regenerates one key and keeps the other', async () => {
    const created = await stack.createResource('rekey', 'Korea');
    const regenerated = await stack.management('POST', '/api/management/resources/rekey/regenerateKey', { key: 'primary' });
    expect(regenerated.status).toBe(200);
    expect(regenerated.body.primaryKey).not.toBe(created.primaryKey);
    expect(regenerated.body.secondaryKey).toBe(created.secondaryKey);
    const bad = await stack.management('POST', '/api/management/resources/rekey/regenerateKey', { key: 'tertiary' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.target).toBe('key');
  });

  it('deletes a resource, reports what it removed, and answers a retry with the same report', async () => {
    const created = await stack.createResource('short-lived', 'India');
    const deleted = await stack.management('DELETE', '/api/management/resources/short-lived');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toMatchObject({ resourceId: created.id, name: 'short-lived', geography: 'India' });
    expect(deleted.body.removed.cosmos).toHaveProperty('outbox');
    // A resource that only ever had its ResourceCreated entry: that entry goes, nothing else was there.
    expect(deleted.body.removed).toEqual({
      cosmos: { outbox: 1, identities: 0, chatThreads: 0, chatMemberships: 0, recordings: 0, auditRecords: 0, legalHolds: 0, operationLogs: 0, privacyRequests: 0, erasureReceipts: 0, phoneNumberRecords: 0, smsRecords: 0, emailDomains: 0, emailOperations: 0, emailSuppressions: 0, messageChannels: 0, messageRecords: 0 },
      blobs: {},
    });
    expect(deleted.body.eventsAwaitingPublication).toBe(0);
    const retry = await stack.management('DELETE', '/api/management/resources/short-lived');
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual(deleted.body);
    expect((await stack.management('GET', '/api/management/resources/short-lived')).status).toBe(404);
    // The name can be used again, for a new resource with a new id.
    const reborn = await stack.createResource('short-lived', 'Brazil');
    expect(reborn.id).not.toBe(created.id);
  });
});

describe('management API: bad input changes nothing and says what was wrong', () => {
  it('rejects an unknown geography with 400 naming the field', async () => {
    const response = await stack.management('PUT', '/api/management/resources/atlantis', { geography: 'Atlantis' });
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', target: 'geography' });
    expect(response.body.error.message).toMatch(/unknown geography 'Atlantis'/);
    expect((await stack.management('GET', '/api/management/resources/atlantis')).status).toBe(404);
  });

  it('rejects a bad name, an unknown field and a missing geography', async () => {
    const badName = await stack.management('PUT', '/api/management/resources/-bad-', { geography: 'Europe' });
    expect(badName.status).toBe(400);
    expect(badName.body.error.target).toBe('name');
    const unknownField = await stack.management('PUT', '/api/management/resources/typo', { geography: 'Europe', geograpy: 'x' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toMatch(/geograpy/);
    const missing = await stack.management('PUT', '/api/management/resources/typo', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.target).toBe('geography');
    expect((await stack.management('GET', '/api/management/resources/typo')).status).toBe(404);
  });

  it('answers 401 for a missing or wrong management key', async () => {
    const missing = await fetch(`${stack.httpUrl}/api/management/resources`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('Unauthorized');
    const wrong = await stack.management('GET', '/api/management/resources', undefined, 'not-the-key');
    expect(wrong.status).toBe(401);
  });

  it('answers 405 with Allow, 415 for a non-JSON body, 413 over the size limit, 400 for broken JSON', async () => {
    const patch = await stack.management('PATCH', '/api/management/resources/x', { geography: 'Europe' });
    expect(patch.status).toBe(405);
    expect(patch.headers.get('allow')).toBe('GET, PUT, DELETE');
    const form = await fetch(`${stack.httpUrl}/api/management/resources/form`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'text/plain' },
      body: 'geography=Europe',
    });
    expect(form.status).toBe(415);
    const huge = await fetch(`${stack.httpUrl}/api/management/resources/huge`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ geography: 'Europe', pad: 'x'.repeat(1_100_000) }),
    });
    expect(huge.status).toBe(413);
    const broken = await fetch(`${stack.httpUrl}/api/management/resources/broken`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
      body: '{"geography": ',
    });
    expect(broken.status).toBe(400);
    for (const name of ['form', 'huge', 'broken']) {
      expect((await stack.management('GET', `/api/management/resources/${name}`)).status).toBe(404);
    }
  });

  it('answers an unknown path with a 404 in the ACS error shape', async () => {
    const response = await fetch(`${stack.httpUrl}/no/such/thing`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NotFound');
  });

  it('logs one line per request with method, route template, status, duration and correlation id', async () => {
    const response = await stack.management('GET', '/api/management/resources/contoso-eu');
    const correlationId = response.headers.get('x-ms-correlation-id');
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const line = stack.logs.find((l) => l.includes(correlationId!));
    expect(line).toMatch(new RegExp(`^GET /api/management/resources/\\{name\\} 200 \\d+ms ${correlationId}$`));
  });
});
