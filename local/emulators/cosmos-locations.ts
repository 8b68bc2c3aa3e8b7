import { AsyncLocalStorage } from 'node:async_hooks';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';

/**
 * Regional endpoints of the embedded Cosmos server. In Azure each geography has its own Cosmos
 * account, whose database-account read (`GET /`, `CosmosClient.getDatabaseAccount()`) lists the
 * regions it is in. cosmosdb-server is one account that always says "South Central US". Here more
 * listeners can be opened onto its one in-memory account, each answering the database-account read
 * with a location of its own, so that the residency audit's location check runs locally against
 * what looks, to a client, like one account per geography (the data is still one store; each
 * geography has its own databases in it).
 */
export interface EmbeddedCosmosEndpoint {
  readonly endpoint: string;
  /**
   * What the database-account read reports as the one readable and writable location, as Cosmos
   * names regions ("Japan East"). Tests change it to plant a misplaced account.
   */
  location: string;
  /** Further regions the account is readable in (a multi-region account): reported as readable only. */
  readOnlyLocations: string[];
}

/** The regional endpoint a request came in on (none: the main endpoint, answered as cosmosdb-server answers). */
const endpointOfRequest = new AsyncLocalStorage<EmbeddedCosmosEndpoint>();

type Serve = (req: IncomingMessage, res: ServerResponse) => void;

/** Opens another listener (loopback, `port` or a free one) onto the server whose requests `serve` handles. */
export async function listenRegional(serve: Serve, location: string, port: number, readOnlyLocations: string[] = []): Promise<{ endpoint: EmbeddedCosmosEndpoint; close(): Promise<void> }> {
  reportEndpointLocations();
  // Its URL is known once it listens (before any request).
  const endpoint: { endpoint: string; location: string; readOnlyLocations: string[] } = { endpoint: '', location, readOnlyLocations };
  const server = http.createServer({ keepAlive: true }, (req, res) => endpointOfRequest.run(endpoint, () => serve(req, res)));
  // Idle connections stay, as on the main listener (cosmos-emulator.ts).
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  endpoint.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    endpoint,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface EmulatorAccount {
  read(): Record<string, unknown>;
}

/**
 * cosmosdb-server answers the database-account read with its account's `read()`; on a regional
 * endpoint the locations are replaced by that endpoint's. Applied once per process.
 */
function reportEndpointLocations(): void {
  const require = createRequire(import.meta.url);
  const Account = (require('@vercel/cosmosdb-server/lib/account/index.js') as { default: { prototype: EmulatorAccount & { regional?: boolean } } }).default;
  if (Account.prototype.regional) return;
  const read = Account.prototype.read;
  Account.prototype.read = function (this: EmulatorAccount) {
    const data = read.call(this);
    const endpoint = endpointOfRequest.getStore();
    if (!endpoint) return data;
    // An endpoint without a location reports none, as the Cosmos DB emulator does.
    const locations = endpoint.location ? [{ name: endpoint.location, databaseAccountEndpoint: endpoint.endpoint }] : [];
    const readable = [...locations, ...endpoint.readOnlyLocations.map((name) => ({ name, databaseAccountEndpoint: endpoint.endpoint }))];
    return { ...data, writableLocations: locations, readableLocations: readable };
  };
  Account.prototype.regional = true;
}

/**
 * How Cosmos DB names the regions of the 16 geographies (and cosmosdb-server's own) in its
 * database-account read; ARM and `shared/geography/geographies.ts` use the lower-case names.
 */
export const REGION_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  southafricanorth: 'South Africa North',
  southafricawest: 'South Africa West',
  eastasia: 'East Asia',
  southeastasia: 'Southeast Asia',
  australiaeast: 'Australia East',
  australiasoutheast: 'Australia Southeast',
  brazilsouth: 'Brazil South',
  brazilsoutheast: 'Brazil Southeast',
  canadacentral: 'Canada Central',
  canadaeast: 'Canada East',
  northeurope: 'North Europe',
  westeurope: 'West Europe',
  francecentral: 'France Central',
  francesouth: 'France South',
  germanywestcentral: 'Germany West Central',
  germanynorth: 'Germany North',
  centralindia: 'Central India',
  southindia: 'South India',
  japaneast: 'Japan East',
  japanwest: 'Japan West',
  koreacentral: 'Korea Central',
  koreasouth: 'Korea South',
  norwayeast: 'Norway East',
  norwaywest: 'Norway West',
  switzerlandnorth: 'Switzerland North',
  switzerlandwest: 'Switzerland West',
  uaenorth: 'UAE North',
  uaecentral: 'UAE Central',
  uksouth: 'UK South',
  ukwest: 'UK West',
  eastus: 'East US',
  westus2: 'West US 2',
  centralus: 'Central US',
  southcentralus: 'South Central US',
};

export function regionDisplayName(region: string): string {
  const name = REGION_DISPLAY_NAMES[region];
  if (!name) throw new Error(`No display name for the region ${region}`);
  return name;
}
