import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

const audit = async () => {
  const response = await stack.management('POST', '/api/management/residency/audit');
  expect(response.status).toBe(200);
  return response.body;
};

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
    expect(inJapan.resources[0]).toBeGreaterThan(0);
  });

  it('audits every geography and finds nothing misplaced out of a non-zero number checked', async () => {
    const report = await audit();
    expect(report.checked).toBeGreaterThan(0);
    expect(report.misplacedCount).toBe(0);
    expect(report.geographies).toHaveLength(16);
    const europeRow = report.geographies.find((g: { geography: string }) => g.geography === 'Europe');
    const japanRow = report.geographies.find((g: { geography: string }) => g.geography === 'Japan');
    expect(europeRow.cosmosItems).toBeGreaterThan(0);
    expect(japanRow.cosmosItems).toBeGreaterThan(0);
  });

  it('reports an item planted in the wrong geography, in Cosmos and in blob storage', async () => {
    const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
    await cosmos.database('acs-europe').container('outbox').items.create({ id: 'planted-item', resourceId: japan.id, status: 'published' });
    const blobs = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
    const container = blobs.getContainerClient('acs-europe-exports');
    await container.createIfNotExists();
    await container.getBlockBlobClient(`${japan.id}/planted.json`).upload('{}', 2);

    const report = await audit();
    expect(report.misplacedCount).toBe(2);
    expect(report.misplaced).toEqual(
      expect.arrayContaining([
        { store: 'cosmos', foundIn: 'europe', location: 'acs-europe/outbox', id: 'planted-item', resourceId: japan.id, resourceGeography: 'japan' },
        { store: 'blob', foundIn: 'europe', location: 'acs-europe-exports', id: `${japan.id}/planted.json`, resourceId: japan.id, resourceGeography: 'japan' },
      ]),
    );
  });
});
