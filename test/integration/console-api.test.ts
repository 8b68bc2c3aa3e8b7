import { CosmosClient } from '@azure/cosmos';
import { readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeClientPrincipal } from '../../shared/auth/client-principal.js';
import { ManualClock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { createChatUser, type ChatUser } from '../support/chat-users.js';
import { buildConsole } from '../support/console-build.js';
import { startTestStack, toTestResponse, type ResourceView, type TestResponse, type TestStack } from '../support/test-stack.js';

/**
 * The management API the privacy console works through (README, Management API): who the caller is
 * (the key, or a principal App Service Authentication signed in), the geographies with their
 * resources and the last residency audit, data subject requests and receipts with the management
 * key, the purge runs that were due and did not start; and the console's static files at /console.
 * Runs in a process of its own: it gives the chat retention timer a schedule of its own.
 */

const clock = new ManualClock(new Date());
const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const officer = '6f1b2c3d-0000-4000-8000-00000000000a';
let stack: TestStack;
let consoleDir: string;
let eu: ResourceView;
let jp: ResourceView;
let person: ChatUser;

beforeAll(async () => {
  consoleDir = await buildConsole();
  stack = await startTestStack({
    clock,
    env: {
      ENABLED_GEOGRAPHIES: 'Europe,Japan',
      MANAGEMENT_PRINCIPALS: officer,
      MANAGEMENT_APP_ROLES: 'Privacy.Officer',
      CONSOLE_DIR: consoleDir,
      // The planners run when a test asks: daily at 03:00 (never during the test, in real time).
      RETENTION_PURGE_SCHEDULE: '0 0 3 * * *',
      RECORDING_PURGE_SCHEDULE: '0 0 3 * * *',
      PRIVACY_WORKER_SCHEDULE: '0 0 0 1 1 *',
      LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
    },
  });
  eu = await stack.createResource('console-eu', 'Europe');
  jp = await stack.createResource('console-jp', 'Japan');
  person = await createChatUser(stack, eu);
});
afterAll(async () => {
  await stack?.stop();
  if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
});

const principalHeader = (objectId: string, roles: string[] = []) =>
  encodeClientPrincipal({ auth_typ: 'aad', claims: [{ typ: OID, val: objectId }, { typ: 'name', val: 'Ada' }, ...roles.map((val) => ({ typ: 'roles', val }))], name_typ: 'name', role_typ: 'roles' });

async function call(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<TestResponse> {
  return toTestResponse(
    await fetch(`${stack.httpUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

describe('signing in to the management API', () => {
  it('answers who the caller is: the key holder, or an allowed principal (by object id or app role)', async () => {
    expect((await stack.management('GET', '/api/management/session')).body).toEqual({ authenticatedBy: 'managementKey', principalSignIn: true });
    const byId = await call('GET', '/api/management/session', { 'x-ms-client-principal': principalHeader(officer) });
    expect([byId.status, byId.body]).toEqual([200, { authenticatedBy: 'principal', principal: { objectId: officer, name: 'Ada', roles: [] }, principalSignIn: true }]);
    const other = '11111111-2222-4333-8444-555555555555';
    const byRole = await call('GET', '/api/management/session', { 'x-ms-client-principal': principalHeader(other, ['Privacy.Officer']) });
    expect(byRole.body.principal).toEqual({ objectId: other, name: 'Ada', roles: ['Privacy.Officer'] });
  });

  it('lets an allowed principal change what the key could, and stores it', async () => {
    const created = await call('PUT', '/api/management/resources/by-principal', { 'x-ms-client-principal': principalHeader(officer) }, { geography: 'Japan' });
    expect([created.status, created.body.geography]).toEqual([201, 'Japan']);
    expect((await stack.management('GET', '/api/management/resources/by-principal')).body.geography).toBe('Japan');
    expect((await stack.management('DELETE', '/api/management/resources/by-principal')).status).toBe(200);
  });

  it('refuses a principal it does not allow (403) and a malformed header (401), in the ACS error shape, changing nothing', async () => {
    const stranger = await call('PUT', '/api/management/resources/by-stranger', { 'x-ms-client-principal': principalHeader('99999999-2222-4333-8444-555555555555', ['Reader']) }, { geography: 'Japan' });
    expect([stranger.status, stranger.body]).toEqual([
      403,
      {
        error: {
          code: 'Forbidden',
          message:
            'The signed-in principal (object id 99999999-2222-4333-8444-555555555555) may not use the management API: its object id is not in MANAGEMENT_PRINCIPALS and it holds none of the app roles in MANAGEMENT_APP_ROLES.',
          target: 'x-ms-client-principal',
        },
      },
    ]);
    const malformed = await call('GET', '/api/management/resources', { 'x-ms-client-principal': 'bm90IGpzb24=' });
    expect([malformed.status, malformed.body.error.code, malformed.body.error.target]).toEqual([401, 'Unauthorized', 'x-ms-client-principal']);
    const none = await call('GET', '/api/management/resources', {});
    expect([none.status, none.headers.get('www-authenticate')]).toEqual([401, 'Bearer, AppServiceAuthentication login="/.auth/login/aad"']);
    expect((await stack.management('GET', '/api/management/resources/by-stranger')).status).toBe(404);
  });
});

describe('data subject requests with the management key', { timeout: 120_000 }, () => {
  const base = () => `/api/management/resources/${eu.name}/privacy`;
  const until = async (id: string) => {
    for (let i = 0; i < 60; i += 1) {
      const view = (await stack.management('GET', `${base()}/requests/${id}`)).body;
      if (view.status === 'succeeded' || view.status === 'failed') return view;
      await stack.runFunction('privacyWorker');
    }
    throw new Error(`request ${id} did not finish`);
  };

  it('refuses bad input with the field named, and records nothing', async () => {
    const refused = await stack.management('POST', `${base()}/requests`, { action: 'inventory', subjects: { phoneNumbers: ['0800 123'] } });
    expect([refused.status, refused.body.error.code, refused.body.error.target, refused.body.error.message]).toEqual([
      400,
      'ValidationError',
      'subjects.phoneNumbers.0',
      'Invalid request body: subjects.phoneNumbers.0: phoneNumbers must be E.164 numbers such as +14255550123',
    ]);
    const foreign = await stack.management('POST', `${base()}/requests`, { action: 'delete', subjects: { identityIds: [`8:acs:${jp.id}_00000000-0000-4000-8000-000000000001`] } });
    expect([foreign.status, foreign.body.error.target]).toEqual([400, 'subjects.identityIds.0']);
    expect((await stack.management('GET', `${base()}/requests`)).body.value).toEqual([]);
    const unknown = await stack.management('POST', '/api/management/resources/no-such/privacy/requests', { action: 'inventory', subjects: { emails: ['a@b.example'] } });
    expect([unknown.status, unknown.body.error.target]).toEqual([404, 'name']);
  });

  it('runs an inventory: the same request the data plane sees, its locations under the management API, its result downloadable', async () => {
    const submitted = await stack.management('POST', `${base()}/requests`, { action: 'inventory', subjects: { identityIds: [person.id] } });
    expect(submitted.status).toBe(202);
    const id = submitted.body.id as string;
    expect(submitted.headers.get('operation-location')).toBe(`${new URL(stack.httpsUrl).origin}/api/management/resources/console-eu/privacy/requests/${id}`);
    expect([submitted.body.status, submitted.body.subjects.count]).toEqual(['notStarted', 1]);
    const done = await until(id);
    expect(done.status).toBe('succeeded');
    expect(done.result.location).toBe(`${new URL(stack.httpsUrl).origin}/api/management/resources/console-eu/privacy/requests/${id}/result`);
    expect(done.counts.identity).toEqual({ found: 1, held: 0 });
    const result = await stack.management('GET', `${base()}/requests/${id}/result`);
    expect([result.status, result.headers.get('content-disposition'), result.body.requestId, result.body.data.identities.map((i: { id: string }) => i.id)]).toEqual([
      200,
      `attachment; filename="inventory-${id}.json"`,
      id,
      [person.id],
    ]);
    // The data plane reads the same request.
    const dataPlane = await stack.signed({ method: 'GET', endpoint: eu.endpoint, path: `/privacy/requests/${id}`, key: eu.primaryKey, date: clock.now() });
    expect([dataPlane.status, dataPlane.body.status, dataPlane.body.counts]).toEqual([200, 'succeeded', done.counts]);
    expect((await stack.management('GET', `${base()}/requests`)).body.value.map((r: { id: string }) => r.id)).toEqual([id]);
  });

  it('runs a delete to its erasure receipt, found by the subject and by id; the identity is gone from its store', async () => {
    const submitted = await stack.management('POST', `${base()}/requests`, { action: 'delete', subjects: { identityIds: [person.id] } });
    const done = await until(submitted.body.id);
    expect(done.status).toBe('succeeded');
    const receiptId = done.result.receiptId as string;
    expect(done.result.receiptLocation).toBe(`${new URL(stack.httpsUrl).origin}/api/management/resources/console-eu/privacy/receipts/${receiptId}`);
    const receipt = await stack.management('GET', `${base()}/receipts/${receiptId}`);
    expect([receipt.status, receipt.body.requestId, receipt.body.deleted.identity, receipt.body.subjects.length]).toEqual([200, submitted.body.id, 1, 1]);
    expect((await stack.management('GET', `${base()}/receipts?subject=${encodeURIComponent(person.id)}`)).body.value.map((r: { id: string }) => r.id)).toEqual([receiptId]);
    expect((await stack.management('GET', `${base()}/receipts?subject=someone%40else.example`)).body.value).toEqual([]);
    const missing = await stack.management('GET', `${base()}/receipts/${'0'.repeat(32)}`);
    expect([missing.status, missing.body.error.target]).toEqual([404, 'receiptId']);
    const identities = await services().stores.forGeography(geographyByKey('europe')).container('identities');
    const { resource } = await identities.item(person.id, person.id).read();
    expect(resource).toBeUndefined();
  });
});

describe('geographies and the last residency audit', () => {
  it('has no audit result before the first audit', async () => {
    const none = await stack.management('GET', '/api/management/residency/audit');
    expect([none.status, none.body.error.code, none.body.error.message]).toEqual([404, 'NotFound', 'No residency audit has run yet: POST /api/management/residency/audit runs one.']);
    const geographies = await stack.management('GET', '/api/management/geographies');
    expect(geographies.body.lastAudit).toBeNull();
    expect(geographies.body.value).toHaveLength(16);
    expect(geographies.body.value.filter((g: { enabled: boolean }) => g.enabled).map((g: { key: string; resourceCount: number }) => [g.key, g.resourceCount])).toEqual([
      ['europe', 1],
      ['japan', 1],
    ]);
    expect(geographies.body.value.find((g: { key: string }) => g.key === 'france')).toEqual({
      key: 'france',
      name: 'France',
      regions: ['francecentral', 'francesouth'],
      enabled: false,
      whatsAppAdvancedMessaging: false,
      resourceCount: 0,
      audit: null,
    });
  });

  it('keeps each audit’s verdict and counts (no item ids) and shows them per geography', async () => {
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    await cosmos.database('acs-europe').container('outbox').items.create({ id: 'planted-record', resourceId: jp.id, status: 'published' });
    const report = (await stack.management('POST', '/api/management/residency/audit')).body;
    expect([report.verdict, report.misplacedCount]).toEqual(['problemsFound', 1]);
    const last = await stack.management('GET', '/api/management/residency/audit');
    const europeReport = report.geographies.find((g: { geography: string }) => g.geography === 'Europe');
    expect(last.body).toEqual({
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      verdict: 'problemsFound',
      checked: report.checked,
      misplacedCount: 1,
      geographies: report.geographies.map((g: { geography: string; cosmosItems: number; blobs: number; accounts: Record<string, { status: string; detail: string }> }) => ({
        key: g.geography.toLowerCase(),
        name: g.geography,
        cosmosItems: g.cosmosItems,
        blobs: g.blobs,
        misplacedCount: g.geography === 'Europe' ? 1 : 0,
        accounts: Object.fromEntries(Object.entries(g.accounts).map(([k, a]) => [k, { status: a.status, detail: a.detail }])),
      })),
    });
    // What the control plane keeps names no item.
    const stored = await (await services().control.container('residencyAudits')).items.readAll().fetchAll();
    expect(stored.resources.map((r) => r.id)).toEqual(['last']);
    expect(JSON.stringify(stored.resources[0])).not.toContain('planted-record');
    const europe = (await stack.management('GET', '/api/management/geographies')).body.value.find((g: { key: string }) => g.key === 'europe');
    expect([europe.audit.cosmosItems, europe.audit.misplacedCount]).toEqual([europeReport.cosmosItems, 1]);

    await cosmos.database('acs-europe').container('outbox').item('planted-record', jp.id).delete();
    const again = (await stack.management('POST', '/api/management/residency/audit')).body;
    expect([again.verdict, (await stack.management('GET', '/api/management/geographies')).body.lastAudit]).toEqual([
      'notVerified',
      { startedAt: again.startedAt, finishedAt: again.finishedAt, verdict: 'notVerified', checked: again.checked, misplacedCount: 0 },
    ]);
  });
});

describe('missed purge runs', () => {
  it('lists the due times no run started for, and the attention flag says why', async () => {
    clock.set('2030-03-01T03:00:10.000Z');
    await stack.runFunction('chatRetentionPurge');
    clock.set('2030-03-04T03:01:00.000Z');
    await stack.runFunction('chatRetentionPurge');
    clock.set('2030-03-05T03:10:00.000Z');
    const runs = (await stack.management('GET', '/api/management/purgeRuns')).body;
    expect(runs.runs.chatRetention.map((r: { startedAt: string; status: string }) => [r.startedAt, r.status])).toEqual([
      ['2030-03-04T03:01:00.000Z', 'succeeded'],
      ['2030-03-01T03:00:10.000Z', 'succeeded'],
    ]);
    expect(runs.missed).toEqual({ chatRetention: ['2030-03-02T03:00:00.000Z', '2030-03-03T03:00:00.000Z', '2030-03-05T03:00:00.000Z'], recordingPurge: [] });
    expect(runs.status.find((s: { kind: string }) => s.kind === 'chatRetention')).toMatchObject({ attention: true, why: 'a run was due at 2030-03-05T03:00:00.000Z and none started' });
  });
});

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}
/** A GET with node:http (fetch would decompress and hide content-encoding). */
function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    // The path as given (a URL would fold `%2e%2e` segments before sending).
    const { hostname, port } = new URL(stack.httpUrl);
    const request = http.request({ hostname, port, path, method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('the console’s files at /console', () => {
  it('serves index.html uncached with its security headers, and hashed assets as immutable, gzipped when asked', async () => {
    const index = await get('/console/');
    const html = await readFile(join(consoleDir, 'index.html'));
    expect([index.status, index.headers['content-type'], index.headers['cache-control'], index.body.equals(html)]).toEqual([200, 'text/html; charset=utf-8', 'no-cache', true]);
    expect(index.headers['content-security-policy']).toContain("script-src 'self'");
    expect(index.headers['x-content-type-options']).toBe('nosniff');
    expect((await get('/console')).body.equals(html)).toBe(true);
    const script = /src="\/console\/(assets\/[^"]+\.js)"/.exec(html.toString())![1]!;
    const style = /href="\/console\/(assets\/[^"]+\.css)"/.exec(html.toString())![1]!;
    const js = await get(`/console/${script}`, { 'accept-encoding': 'gzip, br' });
    expect([js.status, js.headers['content-type'], js.headers['cache-control'], js.headers['content-encoding'], js.headers.vary]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
      'gzip',
      'Accept-Encoding',
    ]);
    expect(gunzipSync(js.body).equals(await readFile(join(consoleDir, script)))).toBe(true);
    expect(Number(js.headers['content-length'])).toBe(js.body.length);
    const css = await get(`/console/${style}`);
    expect([css.headers['content-type'], css.headers['content-encoding'], css.body.equals(await readFile(join(consoleDir, style)))]).toEqual(['text/css; charset=utf-8', undefined, true]);
    const again = await get('/console/', { 'if-none-match': String(index.headers.etag) });
    expect([again.status, again.body.length]).toEqual([304, 0]);
    const head = await get('/console/', {}, 'HEAD');
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, String(html.length), 0]);
  });

  it('serves nothing outside the folder, nothing hidden, and only GET and HEAD', async () => {
    // Encoded separators and dot segments the host refuses before routing (400); the route's own
    // check (shared/http/static-files.ts, unit-tested in console-logic) is there for hosts that do not.
    for (const path of ['/console/..%2fpackage.json', '/console/%2e%2e/host.json']) {
      const answer = await get(path);
      expect([path, answer.status]).toEqual([path, 400]);
    }
    for (const path of ['/console/assets/missing.js', '/console/.gitignore', '/console/assets/', '/console/index.ts', '/console/src/main.tsx']) {
      const answer = await get(path);
      expect([path, answer.status, JSON.parse(answer.body.toString()).error.code]).toEqual([path, 404, 'NotFound']);
    }
    const post = await call('POST', '/console/', {});
    expect([post.status, post.headers.get('allow'), post.body.error.code]).toEqual([405, 'GET, HEAD', 'MethodNotAllowed']);
  });
});
