import type { GeoStore } from '../stores/geo-store.js';
import { EmailOperationStore } from './email-operation-store.js';
import { purgeExpiredSuppressions } from './email-suppressions.js';

/**
 * The e-mail part of a retention run, for one resource of one geography: finished send operations
 * past their expiry (EMAIL_OPERATION_RETENTION_HOURS after completion) and suppression entries past
 * theirs (EMAIL_SUPPRESSION_DAYS after the bounce), at most `maxItems` in all. Both queries stay in
 * the resource's partition and find only what expired, so the cost follows what expired. A small
 * function on purpose: the retention run's per-resource work item (purge-workers.ts) calls it, page by page.
 */
export async function purgeExpiredEmailData(geo: GeoStore, resourceId: string, now: Date, maxItems: number): Promise<{ deleted: Record<string, number>; more: boolean }> {
  if (maxItems <= 0) return { deleted: {}, more: true };
  const operations = await new EmailOperationStore(geo).purgeExpired(resourceId, now, maxItems);
  const suppressions = await purgeExpiredSuppressions(geo, resourceId, now, maxItems - operations.deleted);
  const deleted = Object.fromEntries(Object.entries({ emailOperations: operations.deleted, emailSuppressions: suppressions.deleted }).filter(([, n]) => n > 0));
  return { deleted, more: operations.more || suppressions.more };
}
