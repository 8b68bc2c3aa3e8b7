import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEOGRAPHIES, geographyByKey } from '../../shared/geography/geographies.js';
import { accountLocationCheck } from '../../shared/residency/account-locations.js';
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
    const refusing = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end('{"code":"Forbidden","message":"Request blocked by Auth"}');
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}/`;
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
      await new Promise((resolve) => refusing.close(resolve));
    }
  });
});
