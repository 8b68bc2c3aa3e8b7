/**
 * The catalogue of what each geography holds. Every Cosmos container of a geography carries a
 * `resourceId` on each item (the residency audit and resource deletion rely on it); every blob
 * name starts with `{resourceId}/`.
 */
export interface GeoContainerSpec {
  partitionKey: string;
  /** Whether the partition key is the resource id (so a resource's items are one partition). */
  partitionedByResource: boolean;
  /** Composite indexes beyond Cosmos's default range index on every path (for ordered or multi-field queries). */
  compositeIndexes?: readonly (readonly string[])[];
}

export const GEO_CONTAINERS = {
  /** Domain changes with their events, until published (see shared/events/outbox.ts). */
  outbox: { partitionKey: '/resourceId', partitionedByResource: true },
  /** Communication identities and their token generation (see shared/identity). */
  identities: { partitionKey: '/id', partitionedByResource: false },
  /**
   * Chat threads, one logical partition per thread: the thread item, its participants, messages and
   * read receipts (see shared/chat/chat-records.ts). Everything a thread operation touches is in it.
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
} as const satisfies Record<string, GeoContainerSpec>;

export type GeoContainerName = keyof typeof GEO_CONTAINERS;

/**
 * `exports`: results of data subject requests (`{resourceId}/{requestId}.json`), purged 7 days on.
 * `recordings`: recording content, `{resourceId}/{recordingId}`, with its expiry in index tags.
 * `recording-landing`: where a media pipeline drops a file for ingestion (`{resourceId}/...`).
 */
export const GEO_BLOB_CONTAINERS = ['exports', 'recordings', 'recording-landing'] as const;
export type GeoBlobContainerName = (typeof GEO_BLOB_CONTAINERS)[number];
