import { endpointsFor, type Settings } from '../config/settings.js';
import { geographyByKey } from '../geography/geographies.js';

/**
 * The one list of every database, container, partition key, composite index and blob container the
 * app uses. Locally the app creates them from it; in Azure (STORE_PROVISIONING=verify) the
 * infrastructure declares them and the app checks at start-up that they exist (store-check.ts).
 * Every Cosmos container of a geography carries a `resourceId` on each item (the residency audit and
 * resource deletion rely on it), except the number pool (`phoneNumbers`): its items belong to the
 * geography itself (`poolGeography`) and name the resource a number is assigned to in
 * `assignedResourceId`, so deleting a resource returns its numbers instead of deleting them. Every
 * blob name starts with `{resourceId}/`.
 */
export interface GeoContainerSpec {
  partitionKey: string;
  /** Whether the partition key is the resource id (so a resource's items are one partition). */
  partitionedByResource: boolean;
  /** Composite indexes beyond Cosmos's default range index on every path (for ordered or multi-field queries). */
  compositeIndexes?: readonly (readonly string[])[];
  /** Its items belong to the geography, not to a resource (the number pool): deleting a resource erases none of them. */
  ownedByGeography?: boolean;
}

export const GEO_CONTAINERS = {
  /** Domain changes with their events, until published, then as delivery records (see shared/events/outbox.ts). */
  outbox: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Communication identities and their token generation (see shared/identity). */
  identities: { partitionKey: '/id', partitionedByResource: false },
  /**
   * Chat threads, one logical partition per thread: the thread item, its participants, messages and
   * read receipts (see shared/chat/chat-records.ts), and the outbox entries of the thread's own
   * changes until they are published (shared/events/entry-home.ts). Everything a thread operation
   * touches is in it.
   */
  chatThreads: {
    partitionKey: '/threadId',
    partitionedByResource: false,
    // The retention purge finds a resource's expired threads by these (shared/retention).
    compositeIndexes: [
      ['/kind', '/resourceId', '/lastActivityAt'],
      ['/kind', '/resourceId', '/policyExpiresAt'],
    ],
  },
  /** Which threads an identity takes part in, one partition per identity (lists a user's threads). */
  chatMemberships: { partitionKey: '/identityId', partitionedByResource: false },
  /** Call recordings' records, one partition per resource (see shared/recordings/recording-record.ts). */
  recordings: { partitionKey: '/resourceId', partitionedByResource: true },
  /** What purges and deletions removed, when and why, without personal data (see shared/audit). */
  auditRecords: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Legal holds placed on threads or identities (see shared/retention/legal-holds.ts). */
  legalHolds: { partitionKey: '/resourceId', partitionedByResource: true },
  /**
   * One record per API operation (shared/oplog): one partition per resource and UTC day, so a busy
   * resource never fills one logical partition and the retention purge works day by day.
   */
  operationLogs: { partitionKey: '/resourceDay', partitionedByResource: false },
  /** Data subject requests with their progress checkpoints (see shared/privacy). */
  privacyRequests: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Erasure receipts of completed delete requests, subjects as keyed hashes only. */
  erasureReceipts: { partitionKey: '/resourceId', partitionedByResource: true },
  /**
   * The geography's number pool: one item per phone number the operator imported, one logical
   * partition per geography (see shared/phone-numbers/pool-number.ts). Items name no resource in
   * `resourceId`: a number belongs to the pool and is lent to a resource (`assignedResourceId`).
   */
  phoneNumbers: { partitionKey: '/poolGeography', partitionedByResource: false, ownedByGeography: true },
  /** A resource's number searches, long-running operations and assignment facts (shared/phone-numbers/number-records.ts). */
  phoneNumberRecords: { partitionKey: '/resourceId', partitionedByResource: true },
  /** SMS opt-outs, delivery-report tracking and repeatability claims; never message text (shared/sms/sms-records.ts). */
  smsRecords: { partitionKey: '/resourceId', partitionedByResource: true },
  /** E-mail domains and their sender usernames, kept until deleted (shared/email/email-domain-records.ts). */
  emailDomains: { partitionKey: '/resourceId', partitionedByResource: true },
  /** E-mail send operations: addresses only while delivering, then status and counts until they expire (shared/email/email-operation.ts). */
  emailOperations: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Hard-bounced addresses, per resource, until EMAIL_SUPPRESSION_DAYS have passed (shared/email/email-suppressions.ts). */
  emailSuppressions: { partitionKey: '/resourceId', partitionedByResource: true },
  /**
   * Advanced Messaging channels (WhatsApp): the channel's ids at WhatsApp and the NAMES of the app
   * settings holding its access token and app secret, never the secrets (shared/whatsapp/channel.ts).
   * Empty outside the five WhatsApp geographies.
   */
  messageChannels: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Webhook dedupe marks and send repeatability claims; no message content, no phone numbers (shared/whatsapp/message-records.ts). */
  messageRecords: { partitionKey: '/resourceId', partitionedByResource: true },
} as const satisfies Record<string, GeoContainerSpec>;

export type GeoContainerName = keyof typeof GEO_CONTAINERS;

/**
 * `exports`: results of data subject requests (`{resourceId}/{requestId}.json`), purged 7 days on.
 * `recordings`: recording content, `{resourceId}/{recordingId}`, with its expiry in index tags.
 * `recording-landing`: where a media pipeline drops a file for ingestion (`{resourceId}/...`).
 * `email-content`: an e-mail being delivered (`{resourceId}/{operationId}/...`), until the relay took or refused it.
 */
export const GEO_BLOB_CONTAINERS = ['exports', 'recordings', 'recording-landing', 'email-content'] as const;
export type GeoBlobContainerName = (typeof GEO_BLOB_CONTAINERS)[number];

/**
 * The control plane: the only global store, in the default Cosmos account (COSMOS_ENDPOINT). It holds
 * the resource registry (names, ids, geographies, settings, keys) and no personal data.
 */
export const CONTROL_CONTAINERS = {
  resources: { partitionKey: '/id' },
  /** The key ring that signs access tokens (not personal data). */
  signingKeys: { partitionKey: '/id' },
  /** Summaries of purge runs: counts, durations, errors, what was skipped for legal holds (no personal data). */
  purgeRuns: { partitionKey: '/kind' },
  /**
   * One marker per settled work item of a purge run (run id and a hash of the item), so an item the
   * queue delivers twice is counted once; Cosmos deletes them after 7 days (TTL).
   */
  purgeRunItems: { partitionKey: '/id', defaultTtl: 7 * 86_400 },
  /** The last residency audit's verdict, counts and account statuses, without item ids (shared/residency/audit-summary.ts). */
  residencyAudits: { partitionKey: '/id' },
} as const satisfies Record<string, { partitionKey: string; defaultTtl?: number }>;
export type ControlContainerName = keyof typeof CONTROL_CONTAINERS;

/** A Cosmos container as the infrastructure must declare it. */
export interface ContainerDeclaration {
  id: string;
  partitionKey: string;
  /** Each an ascending composite index over these paths. */
  compositeIndexes: string[][];
  /** Seconds after which Cosmos deletes an item (time to live); absent: never. */
  defaultTtl?: number;
}

export interface CatalogueDatabase {
  /** The geography whose database this is; absent for the control database. */
  geographyKey?: string;
  /** The account's endpoint setting value. */
  cosmosEndpoint: string;
  database: string;
  containers: ContainerDeclaration[];
}

export interface StoreCatalogue {
  control: CatalogueDatabase;
  geographies: (CatalogueDatabase & { geographyKey: string; geography: string; blobContainers: string[] })[];
}

/** The names a geography's stores have: `{GEO_STORE_PREFIX}-{geography key}` for its database and blob container prefix. */
export const geoStoreName = (settings: Pick<Settings, 'geoStorePrefix'>, geographyKey: string) => `${settings.geoStorePrefix}-${geographyKey}`;

export const geoBlobContainerName = (storeName: string, name: GeoBlobContainerName) => `${storeName}-${name}`;

export const geoContainerDeclaration = (name: GeoContainerName): ContainerDeclaration => {
  const spec: GeoContainerSpec = GEO_CONTAINERS[name];
  return { id: name, partitionKey: spec.partitionKey, compositeIndexes: (spec.compositeIndexes ?? []).map((paths) => [...paths]) };
};

/** Every store of this deployment: the control database and each enabled geography's database and blob containers. */
export function storeCatalogue(settings: Settings): StoreCatalogue {
  return {
    control: {
      cosmosEndpoint: settings.defaults.cosmosEndpoint,
      database: settings.controlDatabase,
      containers: Object.entries(CONTROL_CONTAINERS).map(([id, spec]) => ({
        id,
        partitionKey: spec.partitionKey,
        compositeIndexes: [],
        ...('defaultTtl' in spec ? { defaultTtl: spec.defaultTtl } : {}),
      })),
    },
    geographies: settings.enabledGeographies.map((key) => {
      const name = geoStoreName(settings, key);
      return {
        geography: geographyByKey(key).name,
        geographyKey: key,
        cosmosEndpoint: endpointsFor(settings, key).cosmosEndpoint ?? '',
        database: name,
        containers: (Object.keys(GEO_CONTAINERS) as GeoContainerName[]).map(geoContainerDeclaration),
        blobContainers: GEO_BLOB_CONTAINERS.map((blob) => geoBlobContainerName(name, blob)),
      };
    }),
  };
}
