import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEOGRAPHIES, geographyByKey } from '../../shared/geography/geographies.js';
import { accountLocationCheck, type GeographyAccounts } from '../../shared/residency/account-locations.js';
import { auditResidency } from '../../shared/residency/residency-audit.js';
import { services } from '../../shared/services.js';
import { GeoStore } from '../../shared/stores/geo-store.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

let stack: TestStack;
let europe: ResourceView;
let japan: ResourceView;

beforeAll(async () => {
  stack = await startTestStack();
  europe = await stack.createResource('audit-eu', 'Europe');
  japan = await stack.createResource('audit-jp', 'Japan');
  // Write through both resources' data planes.
  for (const r of [europe, japan]) {
    const sent = await stack.signed({ method: 'POST', endpoint: r.endpoint, path: '/events/:sendTest', key: r.primaryKey, body: '{"count":3}' });
    expect(sent.status).toBe(202);
  }
});
afterAll(async () => {
  await stack?.stop();
});

/**
 * What the set-up leaves in each of the two geographies: the resource's ResourceCreated outbox entry,
 * the outbox entry of its sendTest (three events, one change) and the sendTest's operation log record.
 */
const ITEMS_PER_RESOURCE = 3;

const audit = async () => {
  const response = await stack.management('POST', '/api/management/residency/audit');
  expect(response.status).toBe(200);
  return response.body;
};

/** Items and blobs per geography (where the accounts are is residency-accounts.test.ts's). */
const counts = (report: { geographies: { geography: string; cosmosItems: number; blobs: number }[] }) =>
  report.geographies.map(({ geography, cosmosItems, blobs }) => ({ geography, cosmosItems, blobs }));

/** A server that answers every request 403 (with Azure Storage's error code header; Cosmos ignores it). */
async function refusingServer() {
  const server = createServer((_req, res) => {
    res.writeHead(403, { 'content-type': 'application/json', 'x-ms-error-code': 'AuthorizationFailure' });
    res.end('{"code":"Forbidden","message":"Request blocked by Auth"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe('residency', () => {
  it("stores each resource's data in its own geography's database", async () => {
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    const inEurope = await cosmos.database('acs-europe').container('outbox').items
      .query({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: japan.id }] })
      .fetchAll();
    const inJapan = await cosmos.database('acs-japan').container('outbox').items
      .query({ query: 'SELECT VALUE COUNT(1) FROM c WHERE c.resourceId = @r', parameters: [{ name: '@r', value: japan.id }] })
      .fetchAll();
    expect(inEurope.resources[0]).toBe(0);
    // The ResourceCreated entry and the sendTest entry.
    expect(inJapan.resources[0]).toBe(2);
  });

  it('audits every geography and finds nothing misplaced among exactly the items the set-up wrote', async () => {
    const report = await audit();
    expect(report.checked).toBe(2 * ITEMS_PER_RESOURCE);
    expect(report.misplacedCount).toBe(0);
    // Nothing misplaced, but the storage account and topic have no ARM resource ids here: not proven.
    expect(report.verdict).toBe('notVerified');
    expect(report.misplaced).toEqual([]);
    expect(counts(report)).toEqual(
      GEOGRAPHIES.map((g) => ({ geography: g.name, cosmosItems: g.key === 'europe' || g.key === 'japan' ? ITEMS_PER_RESOURCE : 0, blobs: 0 })),
    );
  });

  it('reports an item planted in the wrong geography, in Cosmos and in blob storage', async () => {
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    await cosmos.database('acs-europe').container('outbox').items.create({ id: 'planted-item', resourceId: japan.id, status: 'published' });
    const blobs = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
    const container = blobs.getContainerClient('acs-europe-exports');
    await container.createIfNotExists();
    await container.getBlockBlobClient(`${japan.id}/planted.json`).upload('{}', 2);

    const report = await audit();
    expect(report.checked).toBe(2 * ITEMS_PER_RESOURCE + 2);
    expect(report.misplacedCount).toBe(2);
    expect(report.verdict).toBe('problemsFound');
    expect(report.misplaced).toEqual([
      { store: 'cosmos', foundIn: 'europe', location: 'acs-europe/outbox', id: 'planted-item', resourceId: japan.id, resourceGeography: 'japan' },
      { store: 'blob', foundIn: 'europe', location: 'acs-europe-exports', id: `${japan.id}/planted.json`, resourceId: japan.id, resourceGeography: 'japan' },
    ]);
    // Blobs are counted per geography like items.
    expect(counts(report).find((g) => g.geography === 'Europe')).toEqual({ geography: 'Europe', cosmosItems: ITEMS_PER_RESOURCE + 1, blobs: 1 });
  });

  it('reports an item that names no resource with an empty resource id', async () => {
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    await cosmos.database('acs-japan').container('outbox').items.create({ id: 'ownerless-item', status: 'published' });
    const report = await audit();
    expect(report.misplaced.filter((m: { id: string }) => m.id === 'ownerless-item')).toEqual([
      { store: 'cosmos', foundIn: 'japan', location: 'acs-japan/outbox', id: 'ownerless-item', resourceId: '', resourceGeography: null },
    ]);
  });
});

describe('a geography whose store cannot be read', () => {
  it('is reported with the failure and makes the verdict notVerified, never counted as empty', async () => {
    // A Cosmos account that refuses every request (as one does without the data-plane role: 403).
    const refusing = await refusingServer();
    try {
      const endpoint = `${refusing.url}/`;
      const svc = services();
      const korea = geographyByKey('korea');
      const unreadable = new GeoStore(korea, {
        cosmos: async () => new CosmosClient({ endpoint, key: 'a2V5', connectionPolicy: { enableEndpointDiscovery: false } }),
        blobs: () => svc.stores.forGeography(korea).blobService(),
        databaseId: 'acs-korea',
        blobContainerPrefix: 'acs-korea',
        provision: false,
      });
      const stores = [svc.stores.forGeography(geographyByKey('europe')), unreadable];
      const report = await auditResidency({
        stores,
        registry: svc.registry,
        accounts: accountLocationCheck({ settings: svc.settings, credential: svc.credential, fetch: globalThis.fetch }),
        now: () => new Date(),
      });
      expect(report.geographies.map((g) => [g.geography, g.cosmosItems, g.scanError])).toEqual([
        ['Europe', ITEMS_PER_RESOURCE + 1, undefined],
        ['Korea', 0, 'the store answered 403'],
      ]);
      expect(report.verdict).toBe('problemsFound');
      // Without the planted items of the tests above, an unreadable store alone is notVerified.
      const alone = await auditResidency({ stores: [unreadable], registry: svc.registry, accounts: accountLocationCheck({ settings: svc.settings, credential: svc.credential, fetch: globalThis.fetch }), now: () => new Date() });
      expect([alone.verdict, alone.geographies[0]!.scanError, alone.checked]).toEqual(['notVerified', 'the store answered 403', 0]);
    } finally {
      await refusing.close();
    }
  });
});

/** Every account of every given geography verified in place (as a deployment in Azure whose ARM reads succeed would report). */
const allVerified = async (stores: GeoStore[]): Promise<Map<string, GeographyAccounts>> =>
  new Map(
    stores.map((geo) => {
      const arm = { account: 'a', resourceId: 'r', status: 'ok' as const, sharedWith: [], detail: 'in place' };
      return [geo.geography.key, { cosmos: { endpointHost: 'h', readableLocations: [], writableLocations: [], status: 'ok' as const, sharedWith: [], detail: 'in place' }, storage: arm, topic: arm }];
    }),
  );

describe('the number pool', () => {
  it('checks a pool number against its pool\'s geography, not a resource: one planted in another geography\'s pool is misplaced', async () => {
    const svc = services();
    const container = await svc.stores.forGeography(geographyByKey('brazil')).container('phoneNumbers');
    await container.items.create({ id: '+5511900000001', poolGeography: 'brazil' });
    await container.items.create({ id: '+819000000001', poolGeography: 'japan' });
    const report = await auditResidency({ stores: [svc.stores.forGeography(geographyByKey('brazil'))], registry: svc.registry, accounts: allVerified, now: () => new Date() });
    expect([report.checked, report.misplacedCount, report.verdict]).toEqual([2, 1, 'problemsFound']);
    expect(report.misplaced).toEqual([{ store: 'cosmos', foundIn: 'brazil', location: 'acs-brazil/phoneNumbers', id: '+819000000001', resourceId: '', resourceGeography: 'japan' }]);
  });
});

describe('the verdict with every account verified', () => {
  it('is ok when nothing is misplaced and every store was read, and notVerified when one store could not be read', async () => {
    const svc = services();
    const readable = svc.stores.forGeography(geographyByKey('canada'));
    const refusing = await refusingServer();
    try {
      // Its Cosmos database does not exist (nothing to scan); its blob service refuses every request.
      const unreadable = new GeoStore(geographyByKey('korea'), {
        cosmos: async () => (await readable.database()).client,
        blobs: async () => new BlobServiceClient(`${refusing.url}/devstoreaccount1`),
        databaseId: 'acs-korea-never-created',
        blobContainerPrefix: 'acs-korea',
        provision: false,
      });
      const ok = await auditResidency({ stores: [readable], registry: svc.registry, accounts: allVerified, now: () => new Date() });
      expect([ok.verdict, ok.misplacedCount]).toEqual(['ok', 0]);
      // One account outside its geography's regions, or shared with another geography: a problem, with nothing misplaced.
      for (const status of ['wrongLocation', 'shared'] as const) {
        const oneAccount = async (stores: GeoStore[]) => {
          const accounts = await allVerified(stores);
          const first = accounts.get('canada')!;
          accounts.set('canada', { ...first, topic: { ...first.topic, status } });
          return accounts;
        };
        const report = await auditResidency({ stores: [readable], registry: svc.registry, accounts: oneAccount, now: () => new Date() });
        expect([report.verdict, report.misplacedCount], status).toEqual(['problemsFound', 0]);
      }
      const partly = await auditResidency({ stores: [readable, unreadable], registry: svc.registry, accounts: allVerified, now: () => new Date() });
      expect(partly.verdict).toBe('notVerified');
      // Azure Storage's errors carry a string code and the HTTP status apart: the status is what is reported.
      expect(partly.geographies.map((g) => [g.geography, g.scanError])).toEqual([
        ['Canada', undefined],
        ['Korea', 'the store answered 403'],
      ]);
    } finally {
      await refusing.close();
    }
  });

  it('names the failure\'s kind, without a message, when the store could not be reached at all', async () => {
    const svc = services();
    const refusing = await refusingServer();
    await refusing.close();
    const unreachable = new GeoStore(geographyByKey('korea'), {
      cosmos: async () => (await svc.stores.forGeography(geographyByKey('canada')).database()).client,
      blobs: async () => new BlobServiceClient(`${refusing.url}/devstoreaccount1`, undefined, { retryOptions: { maxTries: 1 } }),
      databaseId: 'acs-korea-never-created',
      blobContainerPrefix: 'acs-korea',
      provision: false,
    });
    const report = await auditResidency({ stores: [unreachable], registry: svc.registry, accounts: allVerified, now: () => new Date() });
    expect([report.verdict, report.geographies[0]!.scanError]).toEqual(['notVerified', 'the store could not be reached (RestError)']);
  });
});
