import type { Clock } from '../clock.js';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
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
  for (const name of CONTAINERS) {
    const container = await geo.existingContainer(name);
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<{ id: string; resourceId: string }>({
          query: 'SELECT TOP @n c.id, c.resourceId FROM c WHERE IS_DEFINED(c.expiresAt) AND c.expiresAt <= @now',
          parameters: [
            { name: '@n', value: maxItems },
            { name: '@now', value: clock.now().toISOString() },
          ],
        })
        .fetchAll(),
    );
    for (let i = 0; i < resources.length; i += 16) {
      const results = await Promise.all(resources.slice(i, i + 16).map((r) => deleteIfExists(container, r.id, r.resourceId)));
      removed += results.filter(Boolean).length;
    }
  }
  return removed;
}
