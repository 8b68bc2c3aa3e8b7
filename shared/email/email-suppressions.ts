import { stableId } from '../events/event-record.js';
import type { StoreOp } from '../events/outbox.js';
import { deleteIfExists } from '../stores/cosmos-items.js';
import { deleteExpired } from '../stores/expired-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * The per-resource suppression list: addresses that hard-bounced (the relay refused the recipient
 * permanently, a 5xx reply to RCPT TO), kept in the resource's geography (container
 * `emailSuppressions`) until `expiresAt`, EMAIL_SUPPRESSION_DAYS (14 by default) after the last
 * bounce. A send to a listed address is not attempted: its delivery report says `Suppressed`. From
 * `expiresAt` on the entry no longer suppresses, whether or not the retention purge has deleted it.
 * One item per address (its id derived from resource and address), so a new bounce renews it.
 */
export interface SuppressionRecord {
  id: string;
  resourceId: string;
  kind: 'emailSuppression';
  /** The address in lower case. */
  address: string;
  reason: 'hardBounce';
  /** The relay's reply that made it a hard bounce. */
  code: number;
  enhanced?: string;
  operationId: string;
  bouncedAt: string;
  expiresAt: string;
}

export const suppressionId = (resourceId: string, address: string) => stableId('email-suppression', resourceId, address);

/** The entry for an address, expired or not (data subject requests list what is stored): a point read. */
export async function readSuppression(geo: GeoStore, resourceId: string, address: string): Promise<SuppressionRecord | undefined> {
  const container = await geo.container('emailSuppressions');
  const { resource } = await container.item(suppressionId(resourceId, address), resourceId).read<SuppressionRecord>();
  return resource;
}

/** Which of these addresses are suppressed now: one query in the resource's partition. */
export async function suppressedAmong(geo: GeoStore, resourceId: string, addresses: string[], now: Date): Promise<Set<string>> {
  if (addresses.length === 0) return new Set();
  const container = await geo.container('emailSuppressions');
  const { resources } = await container.items
    .query<Pick<SuppressionRecord, 'address'>>(
      {
        query: "SELECT c.address FROM c WHERE c.resourceId = @rid AND c.kind = 'emailSuppression' AND c.expiresAt > @now AND ARRAY_CONTAINS(@addresses, c.address)",
        parameters: [
          { name: '@rid', value: resourceId },
          { name: '@now', value: now.toISOString() },
          { name: '@addresses', value: addresses },
        ],
      },
      { partitionKey: resourceId },
    )
    .fetchAll();
  return new Set(resources.map((r) => r.address));
}

/** The outbox operation that lists (or renews) a hard-bounced address, committed with its delivery report. */
export function suppressionOp(fields: Omit<SuppressionRecord, 'id' | 'kind' | 'reason'>): StoreOp {
  const item: SuppressionRecord = { id: suppressionId(fields.resourceId, fields.address), kind: 'emailSuppression', reason: 'hardBounce', ...fields };
  return { op: 'upsert', target: { plane: 'geo', container: 'emailSuppressions' }, partitionKey: fields.resourceId, item };
}

export async function deleteSuppression(geo: GeoStore, resourceId: string, address: string): Promise<boolean> {
  return deleteIfExists(await geo.container('emailSuppressions'), suppressionId(resourceId, address), resourceId);
}

/** Deletes up to `max` of a resource's entries past their expiry; whether more are due. */
export async function purgeExpiredSuppressions(geo: GeoStore, resourceId: string, now: Date, max: number): Promise<{ deleted: number; more: boolean }> {
  return deleteExpired(await geo.existingContainer('emailSuppressions'), now, max, { resourceId, kind: 'emailSuppression' });
}
