import { describe, expect, it } from 'vitest';
import { encodeClientPrincipal, parseClientPrincipal } from '../../shared/auth/client-principal.js';
import { authenticateManagementCaller } from '../../shared/auth/management-caller.js';
import { geographySummaries } from '../../shared/geography/geography-summary.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { safeRelativePath, StaticFiles } from '../../shared/http/static-files.js';
import { missedDueTimes, missedRuns } from '../../shared/retention/missed-runs.js';
import type { PurgeRunRecord } from '../../shared/retention/purge-run-record.js';
import { dueTimesBetween } from '../../shared/retention/purge-schedules.js';
import { parseSettings } from '../../shared/config/settings.js';
import { refusal } from '../support/refusal.js';

/**
 * The pure parts behind the privacy console: App Service Authentication's client principal header
 * and who it lets in, the static file paths the console route serves, the missed purge runs the
 * chart marks, and the per-geography summary the map draws.
 */

const OID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const ROLE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const allowedId = '6f1b2c3d-0000-4000-8000-00000000000a';
const managementKey = 'k'.repeat(40);

function request(headers: Record<string, string>) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { headers: { get: (name: string) => lower[name.toLowerCase()] ?? null } } as never;
}
const principal = (claims: { typ: string; val: string }[], authTyp = 'aad') =>
  encodeClientPrincipal({ auth_typ: authTyp, claims, name_typ: 'name', role_typ: ROLE });

describe('client principal header', () => {
  it('reads the object id, name and roles of an Easy Auth principal (claim types as App Service maps them)', () => {
    const header = principal([
      { typ: OID, val: allowedId.toUpperCase() },
      { typ: 'name', val: 'Ada Privacy' },
      { typ: ROLE, val: 'Privacy.Officer' },
      { typ: 'roles', val: 'Console.Reader' },
      { typ: ROLE, val: 'Privacy.Officer' },
    ]);
    expect(parseClientPrincipal(header)).toEqual({ identityProvider: 'aad', objectId: allowedId, name: 'Ada Privacy', roles: ['Privacy.Officer', 'Console.Reader'] });
    expect(parseClientPrincipal(principal([{ typ: 'oid', val: allowedId }]))).toEqual({ identityProvider: 'aad', objectId: allowedId, roles: [] });
  });

  it('refuses what is not base64 JSON of that shape', () => {
    for (const bad of ['', 'not base64!', Buffer.from('{"claims": []}').toString('base64'), Buffer.from('[1]').toString('base64'), Buffer.from('{not json').toString('base64'), 'A'.repeat(32_769)]) {
      expect(parseClientPrincipal(bad), bad.slice(0, 20)).toBeUndefined();
    }
  });
});

describe('management callers', () => {
  const configured = { managementKey, principals: { objectIds: [allowedId], appRoles: ['Privacy.Officer'] } };
  const off = { managementKey, principals: { objectIds: [], appRoles: [] } };
  const allowedHeader = principal([{ typ: OID, val: allowedId }]);

  it('takes the key first, whatever principal header comes with it', () => {
    expect(authenticateManagementCaller(request({ authorization: `Bearer ${managementKey}`, 'x-ms-client-principal': 'garbage' }), configured)).toEqual({ method: 'managementKey' });
  });

  it('accepts a listed object id or a listed app role when principals are configured', () => {
    expect(authenticateManagementCaller(request({ 'x-ms-client-principal': allowedHeader }), configured)).toEqual({ method: 'principal', objectId: allowedId, roles: [] });
    const byRole = principal([{ typ: OID, val: '11111111-2222-4333-8444-555555555555' }, { typ: ROLE, val: 'Privacy.Officer' }]);
    expect(authenticateManagementCaller(request({ 'x-ms-client-principal': byRole }), configured)).toEqual({
      method: 'principal',
      objectId: '11111111-2222-4333-8444-555555555555',
      roles: ['Privacy.Officer'],
    });
    // An Entra access token in Authorization (Easy Auth validated it and set the principal) is not a key: the principal decides.
    expect(authenticateManagementCaller(request({ authorization: 'Bearer eyJ.entra.token', 'x-ms-client-principal': allowedHeader }), configured).method).toBe('principal');
  });

  it('refuses a malformed principal (401), a principal of another provider or without object id (401), and one not allowed (403)', () => {
    expect(refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': 'e30' }), configured))).toMatchObject({
      code: 'Unauthorized',
      target: 'x-ms-client-principal',
      message: 'The X-MS-CLIENT-PRINCIPAL header is not a client principal (base64-encoded JSON as App Service Authentication sets it).',
      headers: { 'www-authenticate': 'Bearer, AppServiceAuthentication login="/.auth/login/aad"' },
    });
    for (const header of [principal([{ typ: OID, val: allowedId }], 'github'), principal([{ typ: 'name', val: 'no oid' }])]) {
      expect(refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': header }), configured))).toMatchObject({
        code: 'Unauthorized',
        message: 'The signed-in principal is not a Microsoft Entra ID principal with an object id.',
      });
    }
    const stranger = principal([{ typ: OID, val: '99999999-2222-4333-8444-555555555555' }, { typ: ROLE, val: 'Other.Role' }]);
    const refused = refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': stranger }), configured));
    expect([refused.code, refused.status, refused.target, refused.message]).toEqual([
      'Forbidden',
      403,
      'x-ms-client-principal',
      'The signed-in principal (object id 99999999-2222-4333-8444-555555555555) may not use the management API: its object id is not in MANAGEMENT_PRINCIPALS and it holds none of the app roles in MANAGEMENT_APP_ROLES.',
    ]);
  });

  it('ignores the header when no principal is configured: the key is required, as before', () => {
    expect(refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': allowedHeader }), off))).toMatchObject({
      code: 'Unauthorized',
      message: 'The Authorization header is missing; send "Bearer <management key>".',
      headers: { 'www-authenticate': 'Bearer' },
    });
    expect(refusal(() => authenticateManagementCaller(request({ authorization: 'Bearer wrong' }), off)).message).toBe('The management key is not valid.');
  });

  it('names the Entra sign-in page in its 401s when principals are configured', () => {
    expect(refusal(() => authenticateManagementCaller(request({}), configured))).toMatchObject({
      code: 'Unauthorized',
      message: 'The Authorization header is missing; send "Bearer <management key>", or sign in with Microsoft Entra ID at /.auth/login/aad.',
      headers: { 'www-authenticate': 'Bearer, AppServiceAuthentication login="/.auth/login/aad"' },
    });
    expect(refusal(() => authenticateManagementCaller(request({ authorization: 'Bearer wrong' }), configured)).message).toBe('The management key is not valid.');
  });

  it('parses MANAGEMENT_PRINCIPALS and MANAGEMENT_APP_ROLES, refusing what is not an object id', () => {
    const base = { MANAGEMENT_KEY: managementKey, TELEMETRY_HASH_KEY: 'h'.repeat(40), COSMOS_ENDPOINT: 'https://default.documents.azure.com:443/', COSMOS_KEY: 'k', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };
    expect(parseSettings(base).managementPrincipals).toEqual({ objectIds: [], appRoles: [] });
    expect(parseSettings({ ...base, MANAGEMENT_PRINCIPALS: ` ${allowedId.toUpperCase()}, `, MANAGEMENT_APP_ROLES: 'Privacy.Officer,Auditor' }).managementPrincipals).toEqual({
      objectIds: [allowedId],
      appRoles: ['Privacy.Officer', 'Auditor'],
    });
    expect(() => parseSettings({ ...base, MANAGEMENT_PRINCIPALS: 'ada@contoso.com' })).toThrow(
      'managementPrincipals.objectIds.0: MANAGEMENT_PRINCIPALS must list Microsoft Entra object ids (GUIDs)',
    );
  });
});

describe('console file paths', () => {
  it('serves paths inside the folder only', () => {
    expect(safeRelativePath('')).toBe('');
    expect(safeRelativePath('/')).toBe('');
    expect(safeRelativePath('/assets/index-abc.js')).toBe('assets/index-abc.js');
    expect(safeRelativePath('/index.html')).toBe('index.html');
    for (const bad of ['/../package.json', '/assets/../../x', '/%2e%2e/x', '/assets%2f..%2fx', '/a\\b', '/.env', '/assets//x', '/assets/', '/%00', '/%E0%A4%A']) {
      expect(safeRelativePath(bad), bad).toBeUndefined();
    }
  });
});

describe('the static file server', () => {
  it('serves what is inside its folder, with type and caching, and nothing beside it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'static-files-'));
    try {
      await mkdir(join(dir, 'www', 'assets'), { recursive: true });
      await writeFile(join(dir, 'secret.txt'), 'outside');
      await writeFile(join(dir, 'www', 'index.html'), '<p>hi</p>');
      await writeFile(join(dir, 'www', 'assets', 'app-1a2b.js'), 'x()');
      await writeFile(join(dir, 'www', 'notes.md'), 'no type');
      const files = new StaticFiles(async () => join(dir, 'www'));
      const headers = { get: () => null };
      const index = await files.serve('GET', '', headers);
      expect([index.status, index.headers['content-type'], index.headers['cache-control'], index.body?.toString()]).toEqual([200, 'text/html; charset=utf-8', 'no-cache', '<p>hi</p>']);
      const asset = await files.serve('GET', '/assets/app-1a2b.js', headers);
      expect([asset.status, asset.headers['content-type'], asset.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
      for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/notes.md', '/assets']) {
        expect([path, (await files.serve('GET', path, headers)).status]).toEqual([path, 404]);
      }
      expect((await files.serve('DELETE', '/index.html', headers)).status).toBe(405);
      expect((await new StaticFiles(async () => undefined).serve('GET', '', headers)).status).toBe(404);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('missed purge runs', () => {
  const due = (...times: string[]) => times.map((t) => new Date(t));
  const run = (startedAt: string, finishedAt?: string, status: 'running' | 'succeeded' | 'failed' = 'succeeded') => ({ startedAt, ...(finishedAt ? { finishedAt } : {}), status });

  it('marks the due times no run started for, within a minute before to five minutes after, unless a run was still going', () => {
    const now = new Date('2026-03-01T06:00:00.000Z');
    const times = due('2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z', '2026-03-01T03:00:00.000Z', '2026-03-01T04:00:00.000Z', '2026-03-01T05:00:00.000Z', '2026-03-01T05:56:00.000Z');
    const runs = [
      run('2026-03-01T00:59:00.000Z', '2026-03-01T01:00:30.000Z'), // covers 01:00 (a minute early)
      run('2026-03-01T02:05:00.000Z', '2026-03-01T02:06:00.000Z'), // covers 02:00 (five minutes late, the edge)
      run('2026-03-01T02:58:00.000Z', '2026-03-01T04:30:00.000Z'), // 3:00 is 2 minutes after its start (covered); still going at 04:00
    ];
    // 05:00 has no run; 05:56 is within the grace of now (not yet missed).
    expect(missedDueTimes(times, runs, now, 50)).toEqual(['2026-03-01T05:00:00.000Z']);
    expect(missedDueTimes(due('2026-03-01T02:00:00.000Z'), [run('2026-03-01T02:05:00.001Z', '2026-03-01T02:06:00.000Z')], now, 50)).toEqual(['2026-03-01T02:00:00.000Z']);
    expect(missedDueTimes(due('2026-03-01T02:00:00.000Z'), [run('2026-03-01T01:58:59.999Z', '2026-03-01T01:59:00.000Z')], now, 50)).toEqual(['2026-03-01T02:00:00.000Z']);
    // A run still running (no finishedAt) covers every due time since its start.
    expect(missedDueTimes(times.slice(3, 5), [run('2026-03-01T03:30:00.000Z', undefined, 'running')], now, 50)).toEqual([]);
    expect(missedDueTimes(times.slice(0, 5), [], now, 2)).toEqual(['2026-03-01T04:00:00.000Z', '2026-03-01T05:00:00.000Z']);
  });
  it('at each boundary exactly: the grace before now, a minute early, a run that ended just as the time fell due', () => {
    const now = new Date('2026-03-01T06:00:00.000Z');
    // Due exactly the grace before now: not yet missed; a millisecond earlier: missed.
    expect(missedDueTimes(due('2026-03-01T05:55:00.000Z'), [], now, 50)).toEqual([]);
    expect(missedDueTimes(due('2026-03-01T05:54:59.999Z'), [], now, 50)).toEqual(['2026-03-01T05:54:59.999Z']);
    // A short run that started up to a minute early and ended before the due time still counts for it.
    expect(missedDueTimes(due('2026-03-01T02:00:00.000Z'), [run('2026-03-01T01:59:30.000Z', '2026-03-01T01:59:50.000Z')], now, 50)).toEqual([]);
    expect(missedDueTimes(due('2026-03-01T02:00:00.000Z'), [run('2026-03-01T01:59:00.000Z', '2026-03-01T01:59:10.000Z')], now, 50)).toEqual([]);
    // A run that started earlier than a minute before and ended exactly at the due time was not going at it.
    expect(missedDueTimes(due('2026-03-01T02:00:00.000Z'), [run('2026-03-01T01:50:00.000Z', '2026-03-01T02:00:00.000Z')], now, 50)).toEqual(['2026-03-01T02:00:00.000Z']);
  });

  it('looks back from the oldest listed run, whatever their order, at most a week', async () => {
    const env = { RETENTION_PURGE_SCHEDULE: '0 0 * * * *' };
    const now = new Date('2026-03-01T05:30:00.000Z');
    const runs = [run('2026-03-01T02:00:00.000Z', '2026-03-01T02:00:10.000Z'), run('2026-03-01T05:00:00.000Z', '2026-03-01T05:00:10.000Z')] as PurgeRunRecord[];
    expect(await missedRuns('chatRetention', runs, now, env)).toEqual(['2026-03-01T03:00:00.000Z', '2026-03-01T04:00:00.000Z']);
    expect(await missedRuns('chatRetention', [...runs].reverse(), now, env)).toEqual(['2026-03-01T03:00:00.000Z', '2026-03-01T04:00:00.000Z']);
    expect(await missedRuns('chatRetention', [], now, env)).toEqual([]);
    // A run listed from a month ago: only the last week's due times are examined (the latest 50 returned).
    const old = [run('2026-02-01T00:00:00.000Z', '2026-02-01T00:00:10.000Z')] as PurgeRunRecord[];
    expect(await missedRuns('chatRetention', old, now, env, 1000)).toHaveLength(7 * 24);
  });
});

describe('due times between two instants', () => {
  it('lists each due time after the start up to and including the end, at most max, in UTC whatever the process time zone', async () => {
    const at = (iso: string) => new Date(iso);
    const iso = (times: Date[]) => times.map((t) => t.toISOString());
    expect(iso(await dueTimesBetween('0 0 * * * *', at('2026-03-01T00:00:00.000Z'), at('2026-03-01T03:00:00.000Z'), 10))).toEqual(['2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z', '2026-03-01T03:00:00.000Z']);
    expect(iso(await dueTimesBetween('0 0 * * * *', at('2026-03-01T00:00:00.000Z'), at('2026-03-01T03:00:00.000Z'), 2))).toEqual(['2026-03-01T01:00:00.000Z', '2026-03-01T02:00:00.000Z']);
    expect(await dueTimesBetween('0 0 0 31 2 *', at('2026-03-01T00:00:00.000Z'), at('2030-03-01T00:00:00.000Z'), 10)).toEqual([]);
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo';
    try {
      expect(iso(await dueTimesBetween('0 0 3 * * *', at('2026-03-01T00:00:00.000Z'), at('2026-03-03T00:00:00.000Z'), 10))).toEqual(['2026-03-01T03:00:00.000Z', '2026-03-02T03:00:00.000Z']);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});

describe('geography summary', () => {
  it('counts resources per geography and carries each geography’s part of the last audit', () => {
    const audit = {
      startedAt: 's',
      finishedAt: 'f',
      verdict: 'notVerified' as const,
      checked: 7,
      misplacedCount: 0,
      geographies: [{ key: 'japan', name: 'Japan', cosmosItems: 5, blobs: 2, misplacedCount: 0, accounts: { cosmos: { status: 'ok' as const, detail: 'd' }, storage: { status: 'notVerified' as const, detail: 'd' }, topic: { status: 'notVerified' as const, detail: 'd' } } }],
    };
    const summary = geographySummaries({ enabledKeys: ['europe', 'japan'], resources: [{ geographyKey: 'japan' }, { geographyKey: 'japan' }, { geographyKey: 'europe' }], lastAudit: audit });
    expect(summary.value).toHaveLength(16);
    expect(summary.value.filter((g) => g.enabled).map((g) => [g.key, g.resourceCount, g.audit?.cosmosItems ?? null])).toEqual([
      ['europe', 1, null],
      ['japan', 2, 5],
    ]);
    expect(summary.value.filter((g) => g.resourceCount > 0 || g.enabled).length).toBe(2);
    expect(summary.lastAudit).toEqual({ startedAt: 's', finishedAt: 'f', verdict: 'notVerified', checked: 7, misplacedCount: 0 });
    expect(geographySummaries({ enabledKeys: [], resources: [], lastAudit: undefined }).lastAudit).toBeNull();
  });
});
