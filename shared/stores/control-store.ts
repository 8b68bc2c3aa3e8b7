import type { Container, CosmosClient, Database } from '@azure/cosmos';
import { createdOrExisting } from './cosmos-items.js';
import { CONTROL_CONTAINERS, type ControlContainerName } from './store-catalogue.js';

export type { ControlContainerName } from './store-catalogue.js';

/**
 * The control plane's database (see CONTROL_CONTAINERS in store-catalogue.ts). With `provision` it
 * creates what is missing on first use; without (Azure) it only hands out handles.
 */
export class ControlStore {
  readonly #containers = new Map<string, Promise<Container>>();
  #database?: Promise<Database>;

  constructor(
    private readonly cosmos: () => Promise<CosmosClient>,
    readonly databaseId: string,
    private readonly provision = true,
  ) {}

  container(name: ControlContainerName): Promise<Container> {
    let container = this.#containers.get(name);
    if (!container) {
      this.#database ??= this.cosmos().then(async (c) =>
        this.provision ? createdOrExisting(async () => (await c.databases.createIfNotExists({ id: this.databaseId })).database, () => c.database(this.databaseId)) : c.database(this.databaseId),
      );
      container = this.#database.then(async (db) => {
        if (!this.provision) return db.container(name);
        const spec: { partitionKey: string; defaultTtl?: number } = CONTROL_CONTAINERS[name];
        const create = () => db.containers.createIfNotExists({ id: name, partitionKey: { paths: [spec.partitionKey] }, ...(spec.defaultTtl ? { defaultTtl: spec.defaultTtl } : {}) });
        // Another instance may create it at the same moment.
        return createdOrExisting(async () => (await create()).container, () => db.container(name));
      });
      this.#containers.set(name, container);
      container.catch(() => {
        this.#containers.delete(name);
        this.#database = undefined;
      });
    }
    return container;
  }
}
