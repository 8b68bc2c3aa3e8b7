import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/** The key every Cosmos emulator accepts (cosmosdb-server checks none, but the client needs one). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface EmbeddedCosmos {
  endpoint: string;
  key: string;
  stop(): Promise<void>;
}

/**
 * `@vercel/cosmosdb-server` on loopback, in memory: the real `@azure/cosmos` client talks to it over
 * HTTP. Its gaps (no TTL, change feed, stored procedures, atomic batch, ...) are designed around.
 */
export async function startEmbeddedCosmos(port: number): Promise<EmbeddedCosmos> {
  const { createHttpServer } = await import('@vercel/cosmosdb-server');
  scopeQueriesToPartitions();
  const server = createHttpServer({ keepAlive: true }) as Server;
  const [handle] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    partitionOfRequest.run(partitionHeader(req), () => handle!(req, res));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}/`,
    key: COSMOS_EMULATOR_KEY,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The partition key value a request names (`x-ms-documentdb-partitionkey: ["value"]`), if any. */
const partitionOfRequest = new AsyncLocalStorage<unknown>();

function partitionHeader(req: IncomingMessage): unknown {
  const header = req.headers['x-ms-documentdb-partitionkey'];
  if (typeof header !== 'string') return undefined;
  try {
    const parsed = JSON.parse(header) as unknown;
    return Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined;
  } catch {
    return undefined;
  }
}

interface EmulatorItems {
  _data: Map<string, { read(): unknown }>;
  _getPartition(data: unknown): unknown;
  query(...args: unknown[]): unknown;
}

/**
 * cosmosdb-server runs a single-partition query over every item of the container, ignoring the
 * partition key the client sends: results include other partitions' items and the cost grows with
 * everything stored. Cosmos answers from the one partition; so does the emulator after this patch
 * (the query runs over the partition's items only). Applied once per process.
 */
function scopeQueriesToPartitions(): void {
  const require = createRequire(import.meta.url);
  const Items = (require('@vercel/cosmosdb-server/lib/account/items.js') as { default: { prototype: EmulatorItems & { partitionScoped?: boolean } } }).default;
  if (Items.prototype.partitionScoped) return;
  const query = Items.prototype.query;
  Items.prototype.query = function (this: EmulatorItems, ...args: unknown[]) {
    const partition = partitionOfRequest.getStore();
    if (partition === undefined) return query.apply(this, args);
    const all = this._data;
    const inPartition = new Map<string, { read(): unknown }>();
    for (const [rid, item] of all) if (this._getPartition(item.read()) === partition) inPartition.set(rid, item);
    // The query runs synchronously, so swapping the item map for its duration is safe.
    this._data = inPartition;
    try {
      return query.apply(this, args);
    } finally {
      this._data = all;
    }
  };
  Items.prototype.partitionScoped = true;
}
