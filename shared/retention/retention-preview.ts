import type { Resource } from '../resources/resource.js';
import { effectiveRetention } from '../resources/retention-settings.js';
import type { Services } from '../services.js';

/**
 * What the next chat retention run would delete for a resource, and what legal holds keep, without
 * deleting anything: the same plan the run executes, with the same item budget.
 */
export async function retentionPreview(svc: Pick<Services, 'stores' | 'retention' | 'settings' | 'clock'>, resource: Resource): Promise<Record<string, unknown>> {
  // The same query the run makes (one more than the budget, to tell whether more is left).
  const budget = svc.settings.retentionPurgeMaxItems;
  const plan = await svc.retention.threads.plan(svc.stores.forResource(resource), resource, budget + 1);
  const due = plan.due.slice(0, budget);
  return {
    resourceId: resource.id,
    at: svc.clock.now().toISOString(),
    retention: effectiveRetention(resource.retention),
    chatThreads: {
      count: due.length,
      idle: due.filter((d) => d.reason === 'idle').length,
      retentionPolicy: due.filter((d) => d.reason === 'retentionPolicy').length,
      // More threads have expired than one run deletes: the run after the next takes the rest.
      moreThanOneRun: plan.due.length > budget,
      due,
    },
    keptForLegalHold: { count: plan.held.length, items: plan.held },
  };
}
