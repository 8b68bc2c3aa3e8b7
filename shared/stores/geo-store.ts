import type { Container, CosmosClient, Database } from '@azure/cosmos';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { Geography } from '../geography/geographies.js';
import { GEO_BLOB_CONTAINERS, GEO_CONTAINERS, geoBlobContainerName, geoContainerDeclaration, type GeoBlobContainerName, type GeoContainerName } from './store-catalogue.js';
import { createdOrExisting } from './cosmos-items.js';

/**
 * The stores of one geography: its Cosmos database and its blob containers. The only way domain
 * code reaches personal data; obtained from a StoreDirectory for a resource (or, for timers that
 * sweep a geography, for the geography itself).
 */
export class GeoStore {
  readonly #containers = new Map<string, Promise<Container>>();
  readonly #blobContainers = new Map<string, Promise<ContainerClient>>();
  #database?: Promise<Database>;

  constructor(
    readonly geography: Geography,
    private readonly deps: {
      cosmos: () => Promise<CosmosClient>;
      blobs: () => Promise<BlobServiceClient>;
      databaseId: string;
      blobContainerPrefix: string;
      /** Create what is missing on first use (emulators); false in Azure, where the infrastructure declares it. */
      provision: boolean;
    },
  ) {}

  get databaseId(): string {
    return this.deps.databaseId;
  }

  blobContainerName(name: GeoBlobContainerName): string {
    return geoBlobContainerName(this.deps.blobContainerPrefix, name);
  }

  /** Names of all blob containers of this geography, as they are called in the account. */
  allBlobContainerNames(): string[] {
    return GEO_BLOB_CONTAINERS.map((n) => this.blobContainerName(n));
  }

  allContainerNames(): GeoContainerName[] {
    return Object.keys(GEO_CONTAINERS) as GeoContainerName[];
  }

  database(): Promise<Database> {
    this.#database ??= this.deps.cosmos().then(async (client) => {
      if (!this.deps.provision) return client.database(this.deps.databaseId);
      return createdOrExisting(async () => (await client.databases.createIfNotExists({ id: this.deps.databaseId })).database, () => client.database(this.deps.databaseId));
    });
    return retryOnFailure(this.#database, () => (this.#database = undefined));
  }

  /** The database handle without creating it (for read-only sweeps such as the residency audit). */
  async existingDatabase(): Promise<Database> {
    return (await this.deps.cosmos()).database(this.deps.databaseId);
  }

  /**
   * A container handle without creating anything; operations on it answer 404 while the
   * geography has no data yet (sweeps treat that as empty instead of provisioning stores).
   */
  async existingContainer(name: GeoContainerName): Promise<Container> {
    return (await this.existingDatabase()).container(name);
  }

  container(name: GeoContainerName): Promise<Container> {
    let container = this.#containers.get(name);
    if (!container) {
      container = this.database().then(async (db) => {
        if (!this.deps.provision) return db.container(name);
        const declaration = geoContainerDeclaration(name);
        const create = () =>
          db.containers.createIfNotExists({
            id: name,
            partitionKey: { paths: [declaration.partitionKey] },
            ...(declaration.compositeIndexes.length > 0
              ? { indexingPolicy: { compositeIndexes: declaration.compositeIndexes.map((paths) => paths.map((path) => ({ path, order: 'ascending' as const }))) } }
              : {}),
          });
        return createdOrExisting(async () => (await create()).container, () => db.container(name));
      });
      this.#containers.set(name, container);
    }
    return retryOnFailure(container, () => this.#containers.delete(name));
  }

  blobContainer(name: GeoBlobContainerName): Promise<ContainerClient> {
    let container = this.#blobContainers.get(name);
    if (!container) {
      container = this.deps.blobs().then(async (service) => {
        const client = service.getContainerClient(this.blobContainerName(name));
        if (this.deps.provision) await client.createIfNotExists();
        return client;
      });
      this.#blobContainers.set(name, container);
    }
    return retryOnFailure(container, () => this.#blobContainers.delete(name));
  }

  /** The raw blob service of the geography's account (audit and deletion list containers). */
  blobService(): Promise<BlobServiceClient> {
    return this.deps.blobs();
  }
}

/** A failed lazy initialisation is forgotten, so the next call tries again instead of failing forever. */
function retryOnFailure<T>(promise: Promise<T>, forget: () => void): Promise<T> {
  return promise.catch((error: unknown) => {
    forget();
    throw error;
  });
}
