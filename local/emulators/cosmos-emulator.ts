import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { listenRegional, type EmbeddedCosmosEndpoint } from './cosmos-locations.js';
import { CosmosAuthorizationLog, type CountedAuthorization } from './cosmos-authorization.js';
import { keepPatchConditionsCase } from './cosmos-patch-conditions.js';
import { cacheCompiledQueries } from './cosmos-query-cache.js';
import { installTransactionalBatch } from './cosmos-transactional-batch.js';

/** The key every Cosmos emulator accepts (cosmosdb-server checks none, but the client needs one). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface EmbeddedCosmos {
  endpoint: string;
  key: string;
  /** Requests served so far (benchmarks report store requests per operation); a transactional batch is one. */
  requests(): number;
  /**
   * Another endpoint (loopback, `port` or a free one) onto the same in-memory account, reporting
   * `location` in its database-account read, as a separate regional account would (cosmos-locations.ts);
   * with '' it reports no location, as the Cosmos DB emulator does; `readOnlyLocations` are reported
   * as readable too (a multi-region account).
   */
  addEndpoint(location: string, port?: number, readOnlyLocations?: string[]): Promise<EmbeddedCosmosEndpoint>;
  /** How the requests so far were authorized, a key (`master`) or a Microsoft Entra token (`aad`), with counts. */
  authorizations(): CountedAuthorization[];
  stop(): Promise<void>;
}

/**
 * `@vercel/cosmosdb-server` on loopback, in memory: the real `@azure/cosmos` client talks to it over
 * HTTP, or over HTTPS with `tls` (the client sends Microsoft Entra tokens over HTTPS only). Its gaps
 * (no TTL, change feed, stored procedures, ...) are designed around; its transactional batch is made
 * atomic (cosmos-transactional-batch.ts). `latencyMs` delays each answer, as a network round trip
 * would (for benchmarks: loopback has none).
 */
export async function startEmbeddedCosmos(port: number, options: { tls?: { key: string; cert: string }; latencyMs?: number } = {}): Promise<EmbeddedCosmos> {
  const { createHttpServer, createHttpsServer } = await import('@vercel/cosmosdb-server');
  scopeQueriesToPartitions();
  makeQueriesLinear();
  cacheCompiledQueries();
  keepPatchConditionsCase();
  installTransactionalBatch();
  const { tls } = options;
  const server = (tls ? createHttpsServer({ keepAlive: true, key: tls.key, cert: tls.cert }) : createHttpServer({ keepAlive: true })) as Server;
  // cosmosdb-server answers `Connection: keep-alive` without Node's `Keep-Alive: timeout=5` hint, so
  // a client keeps an idle connection the server closes after 5 s, and a request sent on it just then
  // fails with ECONNRESET (seen in benchmark runs on a loaded machine). Cosmos keeps idle connections
  // far longer; here they stay until the client closes them or the emulator stops.
  server.keepAliveTimeout = 0;
  const [handle] = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  let requests = 0;
  const authorizations = new CosmosAuthorizationLog();
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    requests += 1;
    const refused = authorizations.record(req);
    if (refused) return void res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'Unauthorized', message: refused }));
    const answer = () => partitionOfRequest.run(partitionHeader(req), () => handle!(req, res));
    if (options.latencyMs) setTimeout(answer, options.latencyMs);
    else answer();
  };
  server.on('request', serve);
  const regional: { close(): Promise<void> }[] = [];
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${actual}/`,
    key: COSMOS_EMULATOR_KEY,
    requests: () => requests,
    authorizations: () => authorizations.list(),
    addEndpoint: async (location, regionalPort = 0, readOnlyLocations = []) => {
      const listener = await listenRegional(serve, location, regionalPort, readOnlyLocations);
      regional.push(listener);
      return listener.endpoint;
    },
    stop: async () => {
      await Promise.all(regional.map((listener) => listener.close()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** The partition key value a request names (`x-ms-documentdb-partitionkey: ["value"]`), if any. */
const partitionOfRequest = new AsyncLocalStorage<unknown>();

/**
 * The SDK asks for a query plan before a query (`x-ms-cosmos-is-query-plan-request`). cosmosdb-server
 * knows no plans and answers by running the query over the whole container, which the SDK then
 * ignores; running it over no items gives the SDK the same (plan-less) answer without the cost.
 */
const QUERY_PLAN = Symbol('query plan request');

function partitionHeader(req: IncomingMessage): unknown {
  if (String(req.headers['x-ms-cosmos-is-query-plan-request']).toLowerCase() === 'true') return QUERY_PLAN;
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
 * everything stored. Cosmos answers from the one partition; so does the emulator after this patch:
 * each container's item map keeps an index by partition value, and a query runs over the named
 * partition's items only. Applied once per process.
 */
function scopeQueriesToPartitions(): void {
  const require = createRequire(import.meta.url);
  const Items = (require('@vercel/cosmosdb-server/lib/account/items.js') as { default: { prototype: EmulatorItems & { partitionScoped?: boolean } } }).default;
  if (Items.prototype.partitionScoped) return;
  const query = Items.prototype.query;
  Items.prototype.query = function (this: EmulatorItems, ...args: unknown[]) {
    const partition = partitionOfRequest.getStore();
    if (partition === undefined) return query.apply(this, args);
    const all = this._data instanceof PartitionIndexedMap ? this._data : new PartitionIndexedMap(this._data, (item) => this._getPartition(item.read()));
    // The query runs synchronously, so swapping the item map for its duration is safe.
    this._data = partition === QUERY_PLAN ? new Map() : all.partition(partition);
    try {
      return query.apply(this, args);
    } finally {
      this._data = all;
    }
  };
  Items.prototype.partitionScoped = true;
}

type EmulatorItem = { read(): unknown };

/** The emulator's item map (rid -> item), with an index by partition value kept up to date on every write. */
class PartitionIndexedMap extends Map<string, EmulatorItem> {
  readonly #byPartition = new Map<unknown, Map<string, EmulatorItem>>();
  readonly #partitionOf: (item: EmulatorItem) => unknown;

  constructor(entries: Map<string, EmulatorItem>, partitionOf: (item: EmulatorItem) => unknown) {
    super();
    this.#partitionOf = partitionOf;
    for (const [rid, item] of entries) this.set(rid, item);
  }

  override set(rid: string, item: EmulatorItem): this {
    this.#unindex(rid);
    super.set(rid, item);
    const key = this.#partitionOf(item);
    let partition = this.#byPartition.get(key);
    if (!partition) this.#byPartition.set(key, (partition = new Map()));
    partition.set(rid, item);
    return this;
  }

  override delete(rid: string): boolean {
    this.#unindex(rid);
    return super.delete(rid);
  }

  override clear(): void {
    this.#byPartition.clear();
    super.clear();
  }

  partition(key: unknown): Map<string, EmulatorItem> {
    return this.#byPartition.get(key) ?? new Map();
  }

  #unindex(rid: string): void {
    const existing = super.get(rid);
    if (!existing) return;
    const partition = this.#byPartition.get(this.#partitionOf(existing));
    partition?.delete(rid);
    if (partition?.size === 0) this.#byPartition.delete(this.#partitionOf(existing));
  }
}

/**
 * The emulator's query engine (@zeit/cosmosdb-query) compiles every query to JavaScript that first
 * collects the items with `reduce(($, c) => [...$, {c}], [])`, copying the array once per item: a
 * query over n items costs n² (30 s for one query over 64 000 items). The generated code is
 * rewritten to the linear equivalent; the results are the same. Applied once per process.
 */
function makeQueriesLinear(): void {
  const require = createRequire(createRequire(import.meta.url).resolve('@vercel/cosmosdb-server'));
  const Query = (require('@zeit/cosmosdb-query/lib/index.js') as { default: (sql: string) => object }).default('SELECT * FROM c').constructor as {
    prototype: { linear?: boolean };
  };
  if (Query.prototype.linear) return;
  const getter = Object.getOwnPropertyDescriptor(Query.prototype, 'code')!.get!;
  const quadratic = /\$c\.reduce\(\(\$, c\) => typeof c !== "undefined" \? \[\.\.\.\$, \{\s*c: c\s*\}\] : \$, \[\]\)/g;
  Object.defineProperty(Query.prototype, 'code', {
    get(this: object) {
      return (getter.call(this) as string).replace(quadratic, '$c.filter((c) => typeof c !== "undefined").map((c) => ({ c }))');
    },
  });
  Query.prototype.linear = true;
}
