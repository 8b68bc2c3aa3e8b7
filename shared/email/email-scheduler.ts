import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { EmailOperationStore } from './email-operation-store.js';
import { emailWorkItem, type EmailWorkItem } from './email-work-item.js';

/**
 * What the `emailDeliveryScheduler` timer enqueues: a work item for every operation whose next
 * attempt is due in any enabled geography: a retry whose backoff has passed, a new operation no
 * worker took within a minute (its enqueue was lost), or one whose worker's lease ran out (the
 * worker died). At most `maxPerGeography` per geography and run, oldest first; the next run takes
 * the rest. A geography whose store fails is logged and skipped.
 */
export async function dueEmailWork(deps: { stores: StoreDirectory; logger: Logger }, now: Date, maxPerGeography: number): Promise<EmailWorkItem[]> {
  const items: EmailWorkItem[] = [];
  for (const geo of deps.stores.all()) {
    try {
      const due = await new EmailOperationStore(geo).due(now, maxPerGeography);
      items.push(...due.map((op) => emailWorkItem(geo.geography.key, op.resourceId, op.id)));
    } catch (error) {
      deps.logger.error('email.schedule_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return items;
}

