import type { Container } from '@azure/cosmos';
import { beforeAll, describe, expect, it } from 'vitest';
import { CosmosClients } from '../../shared/stores/cosmos-clients.js';
import { storeTls } from '../../shared/stores/store-tls.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * The app's Cosmos client sends no query plan request for a query that names its partition key
 * (shared/stores/single-partition-query-plans.ts), and still does for a cross-partition query. Store
 * requests are counted at the embedded Cosmos server; the SDK's own client, without the plugin, is
 * the comparison in the same run.
 */
const cosmos = useEmbeddedCosmos();
let app: Container;
let plain: Container;

beforeAll(async () => {
  const { database } = await cosmos.client().databases.createIfNotExists({ id: 'plans' });
  const { container } = await database.containers.createIfNotExists({ id: 'items', partitionKey: { paths: ['/pk'] } });
  for (const [pk, n] of [['a', 1], ['a', 2], ['a', 3], ['b', 4], ['b', 5]] as const) await container.items.create({ id: `${pk}${n}`, pk, n });
  plain = container;
  const clients = new CosmosClients({ allowSelfSigned: false, credential: () => Promise.reject(new Error('keys only')), tls: storeTls(undefined) });
  app = (await clients.get(cosmos.emulator().endpoint, cosmos.emulator().key)).database('plans').container('items');
  // Both clients have read the account and the container before anything is counted.
  await Promise.all([app.read(), plain.read()]);
});

async function counted<T>(run: () => Promise<T>): Promise<{ requests: number; result: T }> {
  const before = cosmos.emulator().requests();
  const result = await run();
  return { requests: cosmos.emulator().requests() - before, result };
}

const inPartitionA = { query: 'SELECT TOP 2 VALUE c.n FROM c WHERE c.pk = @pk ORDER BY c.n DESC', parameters: [{ name: '@pk', value: 'a' }] };

describe('a query that names its partition key', () => {
  it('is 1 store request with the app client, 2 with the SDK as it comes, with the same answer', async () => {
    const withApp = await counted(async () => (await app.items.query<number>(inPartitionA, { partitionKey: 'a' }).fetchAll()).resources);
    const withSdk = await counted(async () => (await plain.items.query<number>(inPartitionA, { partitionKey: 'a' }).fetchAll()).resources);
    expect(withApp).toEqual({ requests: 1, result: [3, 2] });
    expect(withSdk).toEqual({ requests: 2, result: [3, 2] });
  });

  it('pages with fetchNext one store request per page', async () => {
    const pages = await counted(async () => {
      const iterator = app.items.query<number>('SELECT VALUE c.n FROM c WHERE c.pk = "a" ORDER BY c.n', { partitionKey: 'a', maxItemCount: 2 });
      const found: number[][] = [];
      while (iterator.hasMoreResults()) {
        const { resources } = await iterator.fetchNext();
        if (resources.length > 0) found.push(resources);
      }
      return found;
    });
    expect(pages).toEqual({ requests: 2, result: [[1, 2], [3]] });
  });
});

describe('a cross-partition query', () => {
  it('still fetches its plan: 2 store requests, the whole answer', async () => {
    const all = await counted(async () => (await app.items.query<number>('SELECT VALUE c.n FROM c').fetchAll()).resources);
    expect(all.requests).toBe(2);
    expect(all.result.sort()).toEqual([1, 2, 3, 4, 5]);
  });
});

it('leaves point operations alone: a read is 1 store request', async () => {
  expect(await counted(async () => (await app.item('b4', 'b').read<{ n: number }>()).resource?.n)).toEqual({ requests: 1, result: 4 });
});
