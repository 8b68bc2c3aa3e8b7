import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import type { Services } from '../services.js';

/**
 * What the next chat retention run would delete for a resource, and what legal holds keep, without
 * deleting anything: the same plan the run executes, with the same item budget.
 */
export async function retentionPreview(svc: Pick<Services, 'stores' | 'retention' | 'settings' | 'clock'>, resource: Resource): Promise<Record<string, unknown>> {
  const plan = await svc.retention.threads.plan(svc.stores.forResource(resource), resource, svc.settings.retentionPurgeMaxItems);
  return {
    resourceId: resource.id,
    at: svc.clock.now().toISOString(),
    retention: effectiveRetention(resource.retention),
    chatThreads: {
      count: plan.due.length,
      idle: plan.due.filter((d) => d.reason === 'idle').length,
      retentionPolicy: plan.due.filter((d) => d.reason === 'retentionPolicy').length,
      due: plan.due,
    },
    keptForLegalHold: { count: plan.held.length, items: plan.held },
  };
}
