import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { CosmosClient, type Container, type OperationInput } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { liftLiterals } from '../../local/emulators/cosmos-patch-conditions.js';
import { loadOrCreateCertificate } from '../../local/tls-certificate.js';
import { EmulatorCredential } from '../support/emulator-credential.js';

let emulator: EmbeddedCosmos;
beforeAll(async () => {
  emulator = await startEmbeddedCosmos(0);
});
afterAll(async () => emulator?.stop());

it('answers a single-partition query from that partition only, and a cross-partition query from all', async () => {
  const client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
  const { database } = await client.databases.createIfNotExists({ id: 'scoping' });
  const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
  await container.items.create({ id: 'same', pk: 'a', n: 1 });
  await container.items.create({ id: 'same', pk: 'b', n: 2 });
  await container.items.create({ id: 'other', pk: 'b', n: 3 });
  const inB = await container.items.query('SELECT c.n FROM c ORDER BY c.n DESC', { partitionKey: 'b' }).fetchAll();
  expect(inB.resources).toEqual([{ n: 3 }, { n: 2 }]);
  const everywhere = await container.items.query('SELECT VALUE c.n FROM c').fetchAll();
  expect(everywhere.resources.sort()).toEqual([1, 2, 3]);
  client.dispose();
});

it('compiles queries without the per-item array copy that made each query quadratic, with the same results', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(createRequire(import.meta.url).resolve('@vercel/cosmosdb-server'));
  const query = (require('@zeit/cosmosdb-query/lib/index.js') as { default: (sql: string) => { code: string; exec(data: unknown[], o: object): { result: unknown[] } } }).default;
  const compiled = query("SELECT VALUE c.n FROM c WHERE c.kind = 'x'");
  expect(compiled.code).not.toContain('[...$');
  const data = Array.from({ length: 20_000 }, (_, n) => ({ n, kind: n % 2 ? 'x' : 'y', _rid: `r${n}` }));
  expect(compiled.exec(data, {}).result).toHaveLength(10_000);
});

it('compiles a query text once: the same text is the same query, and each query answers by its own parameters and items', async () => {
  const { createRequire } = await import('node:module');
  const require = createRequire(createRequire(import.meta.url).resolve('@vercel/cosmosdb-server'));
  type Compiled = { exec(data: unknown[], o: object): { result: unknown[] } };
  const query = (require('@zeit/cosmosdb-query/lib/index.js') as { default: (sql: string) => Compiled }).default;
  const byKind = query('SELECT VALUE c.n FROM c WHERE c.kind = @kind');
  expect(query('SELECT VALUE c.n FROM c WHERE c.kind = @kind')).toBe(byKind);
  const above = query('SELECT VALUE c.n FROM c WHERE c.n > @n');
  expect(above).not.toBe(byKind);
  const data = [1, 2, 3, 4].map((n) => ({ n, kind: n % 2 ? 'odd' : 'even', _rid: `r${n}` }));
  // Alternately, so a function compiled for one query's code is never run for the other's.
  expect(byKind.exec(data, { parameters: [{ name: '@kind', value: 'odd' }] }).result).toEqual([1, 3]);
  expect(above.exec(data, { parameters: [{ name: '@n', value: 2 }] }).result).toEqual([3, 4]);
  expect(byKind.exec(data, { parameters: [{ name: '@kind', value: 'even' }] }).result).toEqual([2, 4]);
  expect(above.exec(data.slice(0, 3), { parameters: [{ name: '@n', value: 0 }] }).result).toEqual([1, 2, 3]);
});

it('evaluates a conditional patch filter as written (camelCase fields, case-sensitive strings), on the one item, 404 before 412', async () => {
  const client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
  const { database } = await client.databases.createIfNotExists({ id: 'conditions' });
  const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
  await container.items.create({ id: 'live', pk: 'a', roster: ['8:acs:X_1'], n: 0 });
  await container.items.create({ id: 'gone', pk: 'a', deletedOn: '2026-12-02T00:00:00.000Z', n: 0 });
  const patch = async (id: string, condition: string) => {
    try {
      await container.item(id, 'a').patch({ condition, operations: [{ op: 'incr', path: '/n', value: 1 }] });
      return 200;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };
  expect(await patch('live', 'FROM c WHERE NOT IS_DEFINED(c.deletedOn)')).toBe(200);
  expect(await patch('gone', 'FROM c WHERE NOT IS_DEFINED(c.deletedOn)')).toBe(412);
  expect(await patch('live', 'FROM c WHERE ARRAY_CONTAINS(c.roster, "8:acs:X_1")')).toBe(200);
  expect(await patch('live', 'FROM c WHERE ARRAY_CONTAINS(c.roster, "8:acs:x_1")')).toBe(412);
  expect(await patch('missing', 'FROM c WHERE NOT IS_DEFINED(c.deletedOn)')).toBe(404);
  const { resource: live } = await container.item('live', 'a').read<{ n: number }>();
  const { resource: gone } = await container.item('gone', 'a').read<{ n: number }>();
  expect([live!.n, gone!.n]).toEqual([2, 0]);
  client.dispose();
});

it('compiles a patch filter once per shape: filters that differ only in their literals still answer each by its own literals', async () => {
  const client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
  const { database } = await client.databases.createIfNotExists({ id: 'condition-shapes' });
  const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
  await container.items.create({ id: 'one', pk: 'a', roster: ['8:acs:A', '8:acs:B'], version: 7, label: 'x', ratio: 0.5, n: 0 });
  const patch = async (condition: string) => {
    try {
      await container.item('one', 'a').patch({ condition, operations: [{ op: 'incr', path: '/n', value: 1 }] });
      return 200;
    } catch (error) {
      return (error as { code: number }).code;
    }
  };
  // The same shape with the literal that holds, then with one that does not, in both orders.
  expect(await patch('FROM c WHERE c.version = 7 AND ARRAY_CONTAINS(c.roster, "8:acs:A")')).toBe(200);
  expect(await patch('FROM c WHERE c.version = 8 AND ARRAY_CONTAINS(c.roster, "8:acs:A")')).toBe(412);
  expect(await patch('FROM c WHERE c.version = 7 AND ARRAY_CONTAINS(c.roster, "8:acs:C")')).toBe(412);
  expect(await patch('FROM c WHERE c.version = 7 AND ARRAY_CONTAINS(c.roster, "8:acs:B")')).toBe(200);
  // A number compared as a number, a string as a string: 7 is not "7".
  expect(await patch('FROM c WHERE c.version = "7"')).toBe(412);
  expect(await patch('FROM c WHERE c.ratio = 0.5')).toBe(200);
  expect(await patch("FROM c WHERE c.label = 'x'")).toBe(200);
  expect(await patch("FROM c WHERE c.label = 'X'")).toBe(412);
  expect(await patch('FROM c WHERE c.roster[1] = "8:acs:B"')).toBe(200);
  expect(await patch('FROM c WHERE c.roster[0] = "8:acs:B"')).toBe(412);
  const { resource } = await container.item('one', 'a').read<{ n: number }>();
  expect(resource!.n).toBe(5);
  client.dispose();
});

it('lifts double-quoted strings and plain numbers out of a filter as parameters, and nothing else', () => {
  expect(liftLiterals('c.rosterVersion = 12 AND ARRAY_CONTAINS(c.roster, "8:acs:x\\"y")')).toEqual({
    shape: 'c.rosterVersion = @literal0 AND ARRAY_CONTAINS(c.roster, @literal1)',
    parameters: [
      { name: '@literal0', value: 12 },
      { name: '@literal1', value: '8:acs:x"y' },
    ],
  });
  expect(liftLiterals('ARRAY_LENGTH(c.held) < 200 AND c.ratio >= 0.25')).toEqual({
    shape: 'ARRAY_LENGTH(c.held) < @literal0 AND c.ratio >= @literal1',
    parameters: [
      { name: '@literal0', value: 200 },
      { name: '@literal1', value: 0.25 },
    ],
  });
  // Kept as written: single quotes, array indexes, digits in names, exponents, leading zeros, invalid JSON escapes.
  for (const clause of ["c.status = 'running'", 'c.a[0] = c.b', 'c.field2 = c.v3', 'c.n = 1e5', 'c.n = 007', 'c.s = "a\\\'b"']) expect(liftLiterals(clause)).toEqual({ shape: clause, parameters: [] });
});

describe('transactional batch', () => {
  let client: CosmosClient;
  let container: Container;
  beforeAll(async () => {
    client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
    const { database } = await client.databases.createIfNotExists({ id: 'batches' });
    ({ container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } }));
  });
  afterAll(() => client?.dispose());

  type Stored = { id: string; pk: string; n: number; _etag: string; _ts: number; _rid: string };
  const partition = async (pk: string) =>
    (await container.items.query<Stored>('SELECT * FROM c', { partitionKey: pk }).fetchAll()).resources.map(({ id, n, _etag, _rid, _ts }) => ({ id, n, _etag, _rid, _ts })).sort((a, b) => a.id.localeCompare(b.id));

  it('applies every kind of operation in one request, in order, and answers each one as Cosmos does', async () => {
    await container.items.create({ id: 'replace-me', pk: 'ok', n: 1 });
    await container.items.create({ id: 'patch-me', pk: 'ok', n: 1 });
    await container.items.create({ id: 'delete-me', pk: 'ok', n: 1 });
    await container.items.create({ id: 'read-me', pk: 'ok', n: 7 });
    await container.items.create({ id: 'elsewhere', pk: 'other', n: 1 });
    const before = emulator.requests();
    const response = await container.items.batch(
      [
        { operationType: 'Create', resourceBody: { id: 'created', pk: 'ok', n: 1 } },
        { operationType: 'Upsert', resourceBody: { id: 'upserted', pk: 'ok', n: 2 } },
        { operationType: 'Replace', id: 'replace-me', resourceBody: { id: 'replace-me', pk: 'ok', n: 3 } },
        { operationType: 'Patch', id: 'patch-me', resourceBody: { condition: 'FROM c WHERE c.n = 1', operations: [{ op: 'incr', path: '/n', value: 10 }] } },
        { operationType: 'Delete', id: 'delete-me' },
        { operationType: 'Read', id: 'read-me' },
      ],
      'ok',
    );
    expect(emulator.requests() - before).toBe(1);
    expect(response.code).toBe(200);
    expect(response.result!.map((r) => r.statusCode)).toEqual([201, 201, 200, 200, 204, 200]);
    expect((response.result![5]!.resourceBody as { n: number }).n).toBe(7);
    expect(response.result![3]!.eTag).toBe((await partition('ok')).find((i) => i.id === 'patch-me')!._etag);
    expect((await partition('ok')).map(({ id, n }) => [id, n])).toEqual([
      ['created', 1],
      ['patch-me', 11],
      ['read-me', 7],
      ['replace-me', 3],
      ['upserted', 2],
    ]);
    expect((await partition('other')).map(({ id, n }) => [id, n])).toEqual([['elsewhere', 1]]);
  });

  it('deletes 100 items of one partition in one request', async () => {
    for (let i = 0; i < 100; i += 1) await container.items.create({ id: `d${i}`, pk: 'hundred', n: i });
    const before = emulator.requests();
    const response = await container.items.batch(Array.from({ length: 100 }, (_, i) => ({ operationType: 'Delete' as const, id: `d${i}` })), 'hundred');
    expect([emulator.requests() - before, response.code, new Set(response.result!.map((r) => r.statusCode))]).toEqual([1, 200, new Set([204])]);
    expect(await partition('hundred')).toEqual([]);
  });

  it.each([
    ['a delete of a missing item (404)', { operationType: 'Delete', id: 'missing' }, 404],
    ['a create of an existing item (409)', { operationType: 'Create', resourceBody: { id: 'kept', pk: 'rollback', n: 99 } }, 409],
    ['a patch whose condition does not hold (412)', { operationType: 'Patch', id: 'kept', resourceBody: { condition: 'FROM c WHERE c.n = 99', operations: [{ op: 'set', path: '/n', value: 5 }] } }, 412],
    ['a delete with a stale etag (412)', { operationType: 'Delete', id: 'kept', ifMatch: '"stale"' }, 412],
    ['a document of another partition (400)', { operationType: 'Upsert', resourceBody: { id: 'stray', pk: 'elsewhere', n: 1 } }, 400],
  ] as const)('rolls back everything when %s fails, answering 207 with its status and 424 for the others', async (_, failing, status) => {
    await container.items.upsert({ id: 'kept', pk: 'rollback', n: 1 });
    await container.items.upsert({ id: 'also-kept', pk: 'rollback', n: 2 });
    const stored = await partition('rollback');
    const before = emulator.requests();
    const response = await container.items.batch(
      [
        { operationType: 'Patch', id: 'kept', resourceBody: [{ op: 'incr', path: '/n', value: 1 }] },
        { operationType: 'Delete', id: 'also-kept' },
        { operationType: 'Create', resourceBody: { id: 'new', pk: 'rollback', n: 3 } },
        failing as OperationInput,
        { operationType: 'Upsert', resourceBody: { id: 'after', pk: 'rollback', n: 4 } },
      ],
      'rollback',
    );
    expect(emulator.requests() - before).toBe(1);
    expect(response.code).toBe(207);
    expect(response.result!.map((r) => r.statusCode)).toEqual([424, 424, 424, status, 424]);
    // Exactly as before: the same items with the same etags, resource ids and times.
    expect(await partition('rollback')).toEqual(stored);
    expect(await partition('elsewhere')).toEqual([]);
  });
});

describe('over HTTPS, with Microsoft Entra tokens', () => {
  let secure: EmbeddedCosmos;
  let ca: string[];
  beforeAll(async () => {
    const tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-cosmos-certs-${process.pid}`));
    ca = [...rootCertificates, tls.cert];
    secure = await startEmbeddedCosmos(0, { tls });
  });
  afterAll(async () => secure?.stop());
  const client = (credential: EmulatorCredential) =>
    new CosmosClient({ endpoint: secure.endpoint, aadCredentials: credential, agent: new Agent({ ca }), connectionPolicy: { enableEndpointDiscovery: false } });

  it('accepts type=aad tokens for the account and records each request with the token it carried, keys as master', async () => {
    const credential = new EmulatorCredential();
    const aad = client(credential);
    const { database } = await aad.databases.createIfNotExists({ id: 'entra' });
    await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
    aad.dispose();
    const keyed = new CosmosClient({ endpoint: secure.endpoint, key: secure.key, agent: new Agent({ ca }), connectionPolicy: { enableEndpointDiscovery: false } });
    await keyed.database('entra').read();
    keyed.dispose();

    const audience = secure.endpoint.replace(/\/$/, '');
    const seen = secure.authorizations();
    const entra = seen.filter((a) => a.type === 'aad');
    expect(entra.every((a) => a.token?.audience === audience && credential.tokenIds(audience).has(a.token.tokenId!) && a.refused === undefined)).toBe(true);
    expect(entra.reduce((n, a) => n + a.count, 0)).toBeGreaterThanOrEqual(3);
    expect(seen.filter((a) => a.type === 'master').reduce((n, a) => n + a.count, 0)).toBeGreaterThanOrEqual(1);
    expect(seen.filter((a) => a.type !== 'aad' && a.type !== 'master')).toEqual([]);
  });

  it('refuses expired tokens and tokens of another audience with 401', async () => {
    for (const credential of [new EmulatorCredential({ expired: true }), new EmulatorCredential({ audience: 'https://other.documents.azure.com' })]) {
      const refused = client(credential);
      await expect(refused.database('entra').read()).rejects.toMatchObject({ code: 401 });
      refused.dispose();
    }
    expect(secure.authorizations().filter((a) => a.refused).map((a) => a.refused).sort()).toEqual(['Invalid token audience.', 'The token is expired.']);
  });
});
