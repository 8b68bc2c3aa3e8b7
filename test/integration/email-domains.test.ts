import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { services } from '../../shared/services.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { VERIFIED } from '../support/email.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The management API of a resource's e-mail domains and sender usernames: what it answers, what it
 * refuses, where it stores (the resource's geography), and how long (until deleted: a domain takes
 * its sender usernames with it, and so does the resource).
 */
let stack: TestStack;
let resource: ResourceView;
const base = () => `/api/management/resources/${resource.name}/emailDomains`;

beforeAll(async () => {
  stack = await startTestStack();
  resource = await stack.createResource('email-domains-jp', 'Japan');
});
afterAll(async () => {
  await stack?.stop();
});

describe('domains', () => {
  it('creates a domain (201) with every verification state, updates the states it names (200), lists and reads it', async () => {
    const created = await stack.management('PUT', `${base()}/Contoso.Example`, { verificationStates: { Domain: 'Verified', SPF: { status: 'VerificationInProgress' } } });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({
      name: 'contoso.example',
      domainManagement: 'CustomerManaged',
      dataLocation: 'Japan',
      verificationStates: { Domain: { status: 'Verified' }, SPF: { status: 'VerificationInProgress' }, DKIM: { status: 'NotStarted' }, DKIM2: { status: 'NotStarted' }, DMARC: { status: 'NotStarted' } },
      verified: false,
      userEngagementTracking: 'Disabled',
      createdAt: expect.any(String),
      updatedAt: created.body.createdAt,
    });
    const updated = await stack.management('PUT', `${base()}/contoso.example`, { verificationStates: { SPF: 'Verified', DKIM: 'Verified', DKIM2: 'Verified' } });
    expect(updated.status).toBe(200);
    expect(updated.body.verificationStates).toEqual({ Domain: { status: 'Verified' }, SPF: { status: 'Verified' }, DKIM: { status: 'Verified' }, DKIM2: { status: 'Verified' }, DMARC: { status: 'NotStarted' } });
    expect(updated.body.verified).toBe(true);
    expect(updated.body.createdAt).toBe(created.body.createdAt);
    expect((await stack.management('GET', `${base()}/contoso.example`)).body).toEqual(updated.body);
    expect((await stack.management('GET', base())).body).toEqual({ value: [updated.body] });
  });

  it.each([
    ['a name that is not a domain', 'not_a_domain', {}, 'domain'],
    ['an unknown verification type', 'other.example', { verificationStates: { MX: 'Verified' } }, 'verificationStates'],
    ['an unknown state', 'other.example', { verificationStates: { SPF: 'Maybe' } }, 'verificationStates.SPF'],
    ['an unknown field', 'other.example', { linked: true }, undefined],
  ])('refuses %s with a 400 and stores nothing', async (_what, domain, body, target) => {
    const response = await stack.management('PUT', `${base()}/${domain}`, body);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('ValidationError');
    if (target) expect(response.body.error.target).toBe(target);
    expect((await stack.management('GET', base())).body.value.map((d: { name: string }) => d.name)).toEqual(['contoso.example']);
  });

  it('answers 404 for a domain or a resource that does not exist, and 401 without the management key', async () => {
    expect((await stack.management('GET', `${base()}/missing.example`)).status).toBe(404);
    expect((await stack.management('GET', '/api/management/resources/nobody/emailDomains')).status).toBe(404);
    expect((await stack.management('GET', base(), undefined, 'wrong-key-wrong-key-wrong-key-wrong')).status).toBe(401);
  });
});

describe('sender usernames', () => {
  it('creates (201), updates (200), reads, lists and deletes (204) a sender username; the username keeps its spelling', async () => {
    const created = await stack.management('PUT', `${base()}/contoso.example/senderUsernames/DoNotReply`, { displayName: 'Contoso' });
    expect(created.status).toBe(201);
    expect(created.body).toEqual({ username: 'DoNotReply', displayName: 'Contoso', domain: 'contoso.example', mailFrom: 'DoNotReply@contoso.example', createdAt: expect.any(String), updatedAt: expect.any(String) });
    const renamed = await stack.management('PUT', `${base()}/contoso.example/senderUsernames/donotreply`, { displayName: 'Contoso Support' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ username: 'donotreply', displayName: 'Contoso Support', createdAt: created.body.createdAt });
    // Without a display name, the username is the display name.
    expect((await stack.management('PUT', `${base()}/contoso.example/senderUsernames/alerts`, {})).body.displayName).toBe('alerts');
    expect((await stack.management('GET', `${base()}/contoso.example/senderUsernames`)).body.value.map((s: { mailFrom: string }) => s.mailFrom)).toEqual(['alerts@contoso.example', 'donotreply@contoso.example']);
    expect((await stack.management('DELETE', `${base()}/contoso.example/senderUsernames/alerts`)).status).toBe(204);
    expect((await stack.management('GET', `${base()}/contoso.example/senderUsernames/alerts`)).status).toBe(404);
    expect((await stack.management('DELETE', `${base()}/contoso.example/senderUsernames/alerts`)).status).toBe(404);
  });

  it('refuses a username that is not one (400), and one on a domain that does not exist (404)', async () => {
    const bad = await stack.management('PUT', `${base()}/contoso.example/senderUsernames/${encodeURIComponent('no spaces')}`, {});
    expect(bad.status).toBe(400);
    expect(bad.body.error.target).toBe('username');
    expect((await stack.management('PUT', `${base()}/missing.example/senderUsernames/info`, {})).status).toBe(404);
  });

  it('takes at most 100 sender usernames per domain (409 for the 101st), as ACS', async () => {
    expect((await stack.management('PUT', `${base()}/bulk.example`, { verificationStates: VERIFIED })).status).toBe(201);
    for (let i = 0; i < 100; i += 1) expect((await stack.management('PUT', `${base()}/bulk.example/senderUsernames/u${i}`, {})).status).toBe(201);
    const refused = await stack.management('PUT', `${base()}/bulk.example/senderUsernames/u100`, {});
    expect(refused.status).toBe(409);
    // An existing one can still be updated.
    expect((await stack.management('PUT', `${base()}/bulk.example/senderUsernames/u7`, { displayName: 'Seven' })).status).toBe(200);
  });
});

describe('where and how long', () => {
  it("keeps domains and sender usernames in the resource's geography only, until deleted", async () => {
    const count = async (key: string) => {
      const container = await services().stores.forGeography(geographyByKey(key)).container('emailDomains');
      const { resources } = await container.items.query<{ kind: string }>({ query: 'SELECT c.kind FROM c WHERE c.resourceId = @rid', parameters: [{ name: '@rid', value: resource.id }] }).fetchAll();
      return resources.length;
    };
    // contoso.example and donotreply; bulk.example and its 100.
    expect(await count('japan')).toBe(2 + 101);
    expect(await count('europe')).toBe(0);
    expect((await stack.management('DELETE', `${base()}/bulk.example`)).status).toBe(204);
    expect(await count('japan')).toBe(2);
    const deleted = await stack.management('DELETE', `/api/management/resources/${resource.name}`);
    expect(deleted.body.removed.cosmos.emailDomains).toBe(2);
    expect(await count('japan')).toBe(0);
  });
});
