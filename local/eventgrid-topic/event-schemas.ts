import * as z from 'zod';

/**
 * Wire schemas of what a publisher may POST to an Event Grid topic, as sent by
 * `EventGridPublisherClient` (@azure/eventgrid 5.x):
 * - 'CloudEvent' clients: `content-type: application/cloudevents-batch+json; charset=utf-8`, a JSON array
 *   of CloudEvents 1.0 (structured mode);
 * - 'EventGrid' clients: `content-type: application/json`, a JSON array of Event Grid schema events.
 * Unknown attributes (CloudEvents extensions, `topic`, ...) are kept.
 */

export type EventSchemaName = 'CloudEvents' | 'EventGrid';

const nonEmpty = z.string().min(1, 'must be a non-empty string');

export const cloudEventSchema = z.looseObject({
  id: nonEmpty,
  source: nonEmpty,
  type: nonEmpty,
  specversion: z.literal('1.0', { error: 'must be "1.0"' }),
});

export const eventGridEventSchema = z.looseObject({
  id: nonEmpty,
  subject: z.string({ error: 'must be a string' }),
  eventType: nonEmpty,
  eventTime: z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time' }),
  // `data` may be null but must be present; z.unknown() alone would accept a missing key.
  data: z.unknown().refine((value) => value !== undefined, 'is required'),
  dataVersion: z.string({ error: 'must be a string' }),
});

export const MEDIA_TYPES = {
  cloudEventsBatch: 'application/cloudevents-batch+json',
  cloudEventsSingle: 'application/cloudevents+json',
  eventGrid: 'application/json',
} as const;

export type ParseResult =
  | { ok: true; schema: EventSchemaName; events: Record<string, unknown>[] }
  | { ok: false; status: number; code: string; message: string };

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 10)
    .map((issue) => {
      const path = issue.path
        .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
        .join('');
      return `events${path}: ${issue.message}`;
    })
    .join('; ');
}

/** Validates a publish request body according to its content type. */
export function parsePublishBody(contentType: string | undefined, body: string): ParseResult {
  const type = mediaType(contentType);
  let schema: EventSchemaName;
  if (type === MEDIA_TYPES.cloudEventsBatch || type === MEDIA_TYPES.cloudEventsSingle) schema = 'CloudEvents';
  else if (type === MEDIA_TYPES.eventGrid) schema = 'EventGrid';
  else {
    return {
      ok: false,
      status: 415,
      code: 'UnsupportedMediaType',
      message:
        `Unsupported content-type '${contentType ?? ''}'. Use '${MEDIA_TYPES.cloudEventsBatch}' (CloudEvents 1.0 array), ` +
        `'${MEDIA_TYPES.cloudEventsSingle}' (one CloudEvent) or '${MEDIA_TYPES.eventGrid}' (Event Grid schema array).`,
    };
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, status: 400, code: 'BadRequest', message: 'Request body is not valid JSON.' };
  }
  // Structured-mode single CloudEvent (application/cloudevents+json) is one object, everything else an array.
  if (type === MEDIA_TYPES.cloudEventsSingle && parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    parsed = [parsed];
  }
  if (!Array.isArray(parsed)) {
    return { ok: false, status: 400, code: 'BadRequest', message: 'Request body must be a JSON array of events.' };
  }
  if (parsed.length === 0) {
    return { ok: false, status: 400, code: 'BadRequest', message: 'Request body must contain at least one event.' };
  }

  const result = z.array(schema === 'CloudEvents' ? cloudEventSchema : eventGridEventSchema).safeParse(parsed);
  if (!result.success) {
    const kind = schema === 'CloudEvents' ? 'CloudEvents 1.0' : 'Event Grid schema';
    return { ok: false, status: 400, code: 'BadRequest', message: `Invalid ${kind} event(s): ${describeIssues(result.error)}` };
  }
  return { ok: true, schema, events: result.data as Record<string, unknown>[] };
}

/** The event's type attribute in either schema. */
export function eventTypeOf(schema: EventSchemaName, event: Record<string, unknown>): string {
  const value = schema === 'CloudEvents' ? event['type'] : event['eventType'];
  return typeof value === 'string' ? value : '';
}
