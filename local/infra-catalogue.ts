import { GEOGRAPHIES } from '../shared/geography/geographies.js';
import { parseSettings } from '../shared/config/settings.js';
import { RESULT_DAYS } from '../shared/privacy/privacy-request.js';
import { EMAIL_CONTENT_BACKSTOP_DAYS } from '../shared/email/email-content-store.js';
import { RECORDING_MAX_HOURS } from '../shared/resources/retention-settings.js';
import { ALL_WORK_QUEUES } from '../shared/queues/work-queues.js';
import { GEO_BLOB_CONTAINERS, geoBlobContainerName, storeCatalogue, type ContainerDeclaration, type GeoBlobContainerName } from '../shared/stores/store-catalogue.js';

/**
 * What the infrastructure (infra/*.bicep, through `loadJsonContent('catalogue.json')`) must know of
 * the app: the geography table (keys, names, regions, setting suffixes) and every database,
 * container, partition key, composite index and blob container of `storeCatalogue`, with the days
 * after which the storage lifecycle rules delete a container's blobs (the backstops of the purges).
 * `npm run infra:catalogue` writes it to infra/catalogue.json; test/infra/catalogue.test.ts fails
 * when the committed file differs from what this returns.
 */
export const INFRA_CATALOGUE_FILE = 'infra/catalogue.json';

/**
 * Lifecycle backstops: recordings and landing files at most 48 hours after creation, results of data
 * subject requests 7 days, e-mail content 2 days (it is deleted once delivered, and retried for at
 * most EMAIL_RETRY_WINDOW_HOURS, at most a day).
 */
export const DELETE_AFTER_DAYS: Record<GeoBlobContainerName, number> = {
  exports: RESULT_DAYS,
  recordings: Math.ceil(RECORDING_MAX_HOURS / 24),
  'recording-landing': Math.ceil(RECORDING_MAX_HOURS / 24),
  'email-content': EMAIL_CONTENT_BACKSTOP_DAYS,
};

/** A Cosmos container as Bicep declares it (composite indexes already in the resource's shape). */
export interface InfraContainer {
  id: string;
  partitionKey: string;
  compositeIndexes: { path: string; order: 'ascending' }[][];
  /** Time to live of the container's items, in seconds (only where the app declares one). */
  defaultTtl?: number;
}

export interface InfraGeography {
  key: string;
  name: string;
  /** The `__<GEO>` suffix of per-geography settings. */
  settingSuffix: string;
  /** Azure regions, the primary first. */
  regions: string[];
  database: string;
  blobContainers: { name: string; role: GeoBlobContainerName; deleteAfterDays: number }[];
}

export interface InfraCatalogue {
  $comment: string;
  geoStorePrefix: string;
  control: { database: string; containers: InfraContainer[] };
  geoContainers: InfraContainer[];
  /** The work queues (and their poison queues) in the Functions host's storage account (shared/queues/work-queues.ts). */
  hostQueues: string[];
  /** Every accepted spelling of ENABLED_GEOGRAPHIES (lower case, no spaces, hyphens or underscores) to its key. */
  aliases: Record<string, string>;
  geographies: Record<string, InfraGeography>;
}

const normalise = (value: string) => value.toLowerCase().replace(/[\s_-]+/g, '');

const infraContainer = (container: ContainerDeclaration): InfraContainer => ({
  id: container.id,
  partitionKey: container.partitionKey,
  compositeIndexes: container.compositeIndexes.map((paths) => paths.map((path) => ({ path, order: 'ascending' as const }))),
  ...(container.defaultTtl !== undefined ? { defaultTtl: container.defaultTtl } : {}),
});

/** The catalogue for the default store names (GEO_STORE_PREFIX and COSMOS_CONTROL_DATABASE unset, as the infrastructure deploys the app). */
export function infraCatalogue(): InfraCatalogue {
  const settings = parseSettings({
    MANAGEMENT_KEY: 'catalogue-generation-placeholder-key',
    TELEMETRY_HASH_KEY: 'catalogue-generation-placeholder-key',
    COSMOS_ENDPOINT: 'https://control.invalid/',
    STORAGE_ACCOUNT_URL: 'https://storage.invalid/',
    STRICT_RESIDENCY: 'false',
    STORE_PROVISIONING: 'verify',
  });
  const stores = storeCatalogue(settings);
  const [first] = stores.geographies;
  if (!first || stores.geographies.length !== GEOGRAPHIES.length) throw new Error('every geography must be in the store catalogue');
  const geoContainers = first.containers.map(infraContainer);
  for (const geography of stores.geographies) {
    if (JSON.stringify(geography.containers.map(infraContainer)) !== JSON.stringify(geoContainers)) {
      throw new Error(`${geography.geography} declares other containers than ${first.geography}`);
    }
  }
  const aliases: Record<string, string> = {};
  for (const g of GEOGRAPHIES) {
    aliases[normalise(g.name)] = g.key;
    aliases[normalise(g.key)] = g.key;
  }
  const geographies: Record<string, InfraGeography> = {};
  for (const geography of stores.geographies) {
    const g = GEOGRAPHIES.find((candidate) => candidate.key === geography.geographyKey)!;
    const blobContainers = GEO_BLOB_CONTAINERS.map((role) => ({ name: geoBlobContainerName(geography.database, role), role, deleteAfterDays: DELETE_AFTER_DAYS[role] }));
    if (JSON.stringify(blobContainers.map((b) => b.name)) !== JSON.stringify(geography.blobContainers)) throw new Error(`${g.name}: blob containers differ from the store catalogue`);
    geographies[g.key] = {
      key: g.key,
      name: g.name,
      settingSuffix: g.key.toUpperCase(),
      regions: [...g.regions],
      database: geography.database,
      blobContainers,
    };
  }
  return {
    $comment: 'Generated by `npm run infra:catalogue` from shared/geography/geographies.ts, shared/stores/store-catalogue.ts and shared/queues/work-queues.ts; do not edit (test/infra/catalogue.test.ts fails when it differs).',
    geoStorePrefix: settings.geoStorePrefix,
    control: { database: stores.control.database, containers: stores.control.containers.map(infraContainer) },
    geoContainers,
    hostQueues: [...ALL_WORK_QUEUES],
    aliases,
    geographies,
  };
}

/** The file's text: two-space JSON and a final newline. */
export const infraCatalogueText = () => `${JSON.stringify(infraCatalogue(), null, 2)}\n`;
