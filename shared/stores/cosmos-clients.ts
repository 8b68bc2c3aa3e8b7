import type { CosmosClient } from '@azure/cosmos';
import type { CredentialSource } from './azure-credential.js';
import { skipSinglePartitionQueryPlans } from './single-partition-query-plans.js';
import type { StoreTls } from './store-tls.js';

/**
 * One CosmosClient per (endpoint, key), created on first use: importing this module costs nothing,
 * which keeps cold starts cheap. Without a key the client authenticates with a Microsoft Entra token
 * (data-plane RBAC: the Cosmos DB Built-in Data Contributor role).
 */
export class CosmosClients {
  readonly #clients = new Map<string, Promise<CosmosClient>>();

  constructor(private readonly options: { allowSelfSigned: boolean; credential: CredentialSource; tls: StoreTls }) {}

  get(endpoint: string, key: string | undefined): Promise<CosmosClient> {
    const cacheKey = `${endpoint}\u0000${key ?? ''}`;
    let client = this.#clients.get(cacheKey);
    if (!client) {
      client = this.#create(endpoint, key);
      this.#clients.set(cacheKey, client);
      client.catch(() => this.#clients.delete(cacheKey));
    }
    return client;
  }

  async #create(endpoint: string, key: string | undefined): Promise<CosmosClient> {
    const { CosmosClient } = await import('@azure/cosmos');
    const https = endpoint.startsWith('https:');
    const agent = this.options.allowSelfSigned && https
      ? new (await import('node:https')).Agent({ rejectUnauthorized: false, keepAlive: true })
      : https
        ? this.options.tls.httpsAgent()
        : undefined;
    return new CosmosClient({
      endpoint,
      ...(key ? { key } : { aadCredentials: await this.options.credential() }),
      agent,
      // The emulator (and a single-region account) must not redirect us to other regions.
      connectionPolicy: { enableEndpointDiscovery: false },
      // Not in the SDK's public option types, read by its client context: see single-partition-query-plans.ts.
      ...({ plugins: [skipSinglePartitionQueryPlans] } as object),
    });
  }

  dispose(): void {
    for (const client of this.#clients.values()) void client.then((c) => c.dispose()).catch(() => undefined);
    this.#clients.clear();
  }
}
