import * as z from 'zod';
import { parseWorkItem } from '../queues/work-items.js';
import { GEOGRAPHIES } from '../geography/geographies.js';
import { isResourceId } from '../resources/resource.js';

/**
 * Delivery work items: one per send operation that is due, on the Storage queue `work-email-delivery`
 * of the Functions host's storage account (AzureWebJobsStorage). The send request enqueues one
 * through its queue output binding; the `emailDeliveryScheduler` timer enqueues one for every
 * operation whose retry is due or that was stranded (its enqueue lost, its worker gone). Items carry
 * opaque ids only (geography key, resource id, operation id): no address, no content, so the queue
 * can live outside the resource's geography. Handling one twice does no harm: the worker takes the
 * operation with a lease and skips it when it is not due.
 * The queue's name and binding are in email-delivery-output.ts.
 */
export const emailWorkItemSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('emailOperation'),
  geography: z.enum(GEOGRAPHIES.map((g) => g.key) as [string, ...string[]], { error: 'geography must be a geography key' }),
  resourceId: z.string().refine(isResourceId, 'resourceId must be a resource id'),
  operationId: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'operationId must be a lower-case UUID'),
});
export type EmailWorkItem = z.infer<typeof emailWorkItemSchema>;

export const emailWorkItem = (geography: string, resourceId: string, operationId: string): EmailWorkItem => ({ v: 1, kind: 'emailOperation', geography, resourceId, operationId });

/** Parses a queue message (JSON already parsed by the host, or text); a malformed one names its fields, never its values. */
export const parseEmailWorkItem = (message: unknown): EmailWorkItem => parseWorkItem(emailWorkItemSchema, message);
