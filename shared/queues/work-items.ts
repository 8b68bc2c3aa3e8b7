import * as z from 'zod';
import { isThreadId } from '../chat/chat-records.js';
import { ServiceError } from '../errors/service-error.js';
import { GEOGRAPHIES } from '../geography/geographies.js';
import { isResourceId } from '../resources/resource.js';

/**
 * The work items, one zod schema per queue: the single source of truth for what a planner sends and
 * a worker accepts. They carry opaque ids only (geography key, resource id, thread, recording,
 * request and outbox entry ids, run ids): no identity ids, phone numbers, e-mail addresses, names,
 * file names or content. So a work item is not personal data, and the queues can live in the app's
 * own storage account, outside the resource's geography (README, Retention and purges).
 */
const geography = z.enum(GEOGRAPHIES.map((g) => g.key) as [string, ...string[]], { error: 'geography must be a geography key' });
const resourceId = z.string().refine(isResourceId, 'resourceId must be a resource id');
const runId = z.string().regex(/^[0-9T:.Z-]{20,30}_[0-9a-f]{8}$/, 'runId must be a purge run id');
const opaque = z.string().regex(/^[0-9a-f-]{16,64}$/, 'must be an opaque hex id');
const isoTime = z.iso.datetime({ offset: false, error: 'must be an ISO time (UTC)' });
const threadId = z.string().refine(isThreadId, 'threadId must be a chat thread id');

export const chatRetentionItemSchema = z.discriminatedUnion('kind', [
  /** One expiring thread: deleted if it is still what the plan saw (`expiry` unchanged) and not held. */
  z.strictObject({
    v: z.literal(1),
    kind: z.literal('chatThread'),
    runId,
    geography,
    resourceId,
    threadId,
    reason: z.enum(['idle', 'retentionPolicy']),
    /** The thread's lastActivityAt (idle) or policyExpiresAt (retentionPolicy) when it was planned. */
    expiry: isoTime,
  }),
  /** A resource's operation log records older than `before`, except those naming a held identity. */
  z.strictObject({ v: z.literal(1), kind: z.literal('operationLogs'), runId, geography, resourceId, before: isoTime }),
  /** A geography's finished privacy requests and results past their expiry. */
  z.strictObject({ v: z.literal(1), kind: z.literal('privacyResults'), runId, geography }),
]);
export type ChatRetentionItem = z.infer<typeof chatRetentionItemSchema>;

export const recordingPurgeItemSchema = z.discriminatedUnion('kind', [
  /** One expired recording (item, event, audit record, blob), unless it names a held identity. */
  z.strictObject({ v: z.literal(1), kind: z.literal('recording'), runId, geography, resourceId, recordingId: z.string().regex(/^[0-9a-f]{32}$/, 'recordingId must be 32 hex digits') }),
  /** A geography's rejected landing files past their expiry (their names are the uploader's, so they stay out of the queue). */
  z.strictObject({ v: z.literal(1), kind: z.literal('landingFiles'), runId, geography, at: isoTime }),
]);
export type RecordingPurgeItem = z.infer<typeof recordingPurgeItemSchema>;

/** A slice of a data subject request; `ticket` is the lease owner the planner or the previous slice wrote. */
export const privacyItemSchema = z.strictObject({ v: z.literal(1), kind: z.literal('privacyRequest'), geography, resourceId, requestId: z.string().regex(/^[0-9a-f]{32}$/), ticket: opaque });
export type PrivacyItem = z.infer<typeof privacyItemSchema>;

/** An outbox entry to finish (re-apply, publish); `threadId` for one kept in a thread's partition (shared/events/entry-home.ts). */
export const outboxItemSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('outboxEntry'),
  geography,
  resourceId,
  entryId: z.string().regex(/^[0-9a-zA-Z-]{1,64}$/),
  threadId: threadId.optional(),
});
export type OutboxItem = z.infer<typeof outboxItemSchema>;

/**
 * Parses a message as the host hands it over (JSON already parsed, or text). A malformed item is a
 * ValidationError naming the fields (never the values): the worker logs it and fails, so the host
 * retries it up to maxDequeueCount times and then moves it to the poison queue.
 */
export function parseWorkItem<T>(schema: z.ZodType<T>, message: unknown): T {
  let value = message;
  if (typeof message === 'string') {
    try {
      value = JSON.parse(message);
    } catch {
      throw new ServiceError('ValidationError', 'The work item is not JSON.');
    }
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(item)'))].slice(0, 5);
  throw new ServiceError('ValidationError', `The work item is malformed: ${fields.join(', ')}.`);
}
