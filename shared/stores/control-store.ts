import type { Container, CosmosClient, Database } from '@azure/cosmos';

/**
 * The control plane: the only global store. It holds the resource registry (names, ids,
 * geographies, settings, keys) and no personal data.
 */
export const CONTROL_CONTAINERS = {
  resources: { partitionKey: '/id' },
  /** The key ring that signs access tokens (not personal data). */
  signingKeys: { partitionKey: '/id' },
  /** Summaries of purge runs: counts, durations, errors, what was skipped for legal holds (no personal data). */
  purgeRuns: { partitionKey: '/kind' },
} as const;
export type ControlContainerName = keyof typeof CONTROL_CONTAINERS;

export class ControlStore {
  readonly #containers = new Map<string, Promise<Container>>();
  #database?: Promise<Database>;

  constructor(
    private readonly cosmos: () => Promise<CosmosClient>,
    readonly databaseId: string,
  ) {}

  container(name: ControlContainerName): Promise<Container> {
    let container = this.#containers.get(name);
    if (!container) {
      this.#database ??= this.cosmos().then(async (c) => (await c.databases.createIfNotExists({ id: this.databaseId })).database);
      container = this.#database.then(async (db) => {
        const { container: c } = await db.containers.createIfNotExists({
          id: name,
          partitionKey: { paths: [CONTROL_CONTAINERS[name].partitionKey] },
        });
        return c;
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
