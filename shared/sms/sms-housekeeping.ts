import type { Clock } from '../clock.js';
import { deleteExpired } from '../stores/expired-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Removes what SMS and the Phone Numbers API keep only for a while, once it has expired
 * (`expiresAt`): delivery records whose receipts never came (DELIVERY_WAIT_HOURS), repeatability
 * claims (REPEATABILITY_HOURS), searches and operation statuses. Run by the `smsHousekeeping`
 * timer, at most `maxItems` per container and geography per run; the next run takes the rest.
 */
const CONTAINERS = ['smsRecords', 'phoneNumberRecords'] as const;

export async function removeExpired(geo: GeoStore, clock: Clock, maxItems: number): Promise<number> {
  let removed = 0;
  for (const name of CONTAINERS) removed += (await deleteExpired(await geo.existingContainer(name), clock.now(), maxItems)).deleted;
  return removed;
}
