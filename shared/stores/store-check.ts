import type { CosmosClient } from '@azure/cosmos';
import type { BlobServiceClient } from '@azure/storage-blob';
import type { CatalogueDatabase, ContainerDeclaration, StoreCatalogue } from './store-catalogue.js';

export interface StoreCheckDeps {
  catalogue: StoreCatalogue;
  /** The client of a catalogue database's account. */
  cosmosFor(database: CatalogueDatabase): Promise<CosmosClient>;
  /** The blob service of a geography (by its key). */
  blobsFor(geographyKey: string): Promise<BlobServiceClient>;
}

/**
 * Checks that every store of the catalogue exists as declared, without creating anything (in Azure
 * the app may not: data-plane RBAC). Returns one line per problem, naming the account, database,
 * container or index; empty when everything is there.
 */
export async function missingStores(deps: StoreCheckDeps): Promise<string[]> {
  const { catalogue } = deps;
  const checks: Promise<string[]>[] = [checkDatabase(deps, catalogue.control, 'control')];
  for (const geography of catalogue.geographies) {
    checks.push(checkDatabase(deps, geography, geography.geography));
    checks.push(checkBlobContainers(deps, geography.geographyKey, geography.geography, geography.blobContainers));
  }
  return (await Promise.all(checks)).flat();
}

async function checkDatabase(deps: StoreCheckDeps, declared: CatalogueDatabase, owner: string): Promise<string[]> {
  const account = URL.canParse(declared.cosmosEndpoint) ? new URL(declared.cosmosEndpoint).host : declared.cosmosEndpoint;
  const where = `Cosmos DB ${account} (${owner})`;
  try {
    const database = (await deps.cosmosFor(declared)).database(declared.database);
    if (!(await exists(() => database.read()))) {
      return [`${where}: database '${declared.database}' is missing, with all its containers (${declared.containers.map((c) => c.id).join(', ')})`];
    }
    const problems = await Promise.all(declared.containers.map((container) => checkContainer(database.container(container.id), container)));
    return problems.flat().map((problem) => `${where}: database '${declared.database}' ${problem}`);
  } catch (error) {
    return [`${where}: could not be read (${describe(error)})`];
  }
}

type ContainerHandle = ReturnType<import('@azure/cosmos').Database['container']>;

async function checkContainer(container: ContainerHandle, declared: ContainerDeclaration): Promise<string[]> {
  let definition: { partitionKey?: { paths?: string[] }; indexingPolicy?: { compositeIndexes?: { path: string; order?: string }[][] } } | undefined;
  try {
    definition = (await container.read()).resource;
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
  }
  if (!definition) return [`container '${declared.id}' is missing (partition key ${declared.partitionKey})`];
  const problems: string[] = [];
  const paths = definition.partitionKey?.paths ?? [];
  if (paths.length !== 1 || paths[0] !== declared.partitionKey) {
    problems.push(`container '${declared.id}' has partition key ${paths.join(', ') || '(none)'}; the app needs ${declared.partitionKey}`);
  }
  const indexes = (definition.indexingPolicy?.compositeIndexes ?? []).map((index) => index.map((entry) => `${entry.path}:${entry.order ?? 'ascending'}`).join(','));
  for (const composite of declared.compositeIndexes) {
    if (!indexes.includes(composite.map((path) => `${path}:ascending`).join(','))) {
      problems.push(`container '${declared.id}' lacks the composite index (${composite.join(' asc, ')} asc)`);
    }
  }
  return problems;
}

async function checkBlobContainers(deps: StoreCheckDeps, geographyKey: string, geography: string, names: string[]): Promise<string[]> {
  try {
    const service = await deps.blobsFor(geographyKey);
    const present = await Promise.all(names.map((name) => service.getContainerClient(name).exists()));
    const missing = names.filter((_, i) => !present[i]);
    const account = new URL(service.url).host;
    return missing.map((name) => `Blob storage ${account} (${geography}): container '${name}' is missing`);
  } catch (error) {
    return [`Blob storage of ${geography}: could not be read (${describe(error)})`];
  }
}

async function exists(read: () => Promise<unknown>): Promise<boolean> {
  try {
    await read();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw error;
  }
}

const statusOf = (error: unknown) => (error as { code?: unknown; statusCode?: unknown }).code ?? (error as { statusCode?: unknown }).statusCode;

/** A failure in words without secrets: the status and the error's class, never a message that may quote a request. */
function describe(error: unknown): string {
  const status = statusOf(error);
  return typeof status === 'number' ? `status ${status}` : error instanceof Error ? error.name : 'unknown error';
}
