import { createHash } from 'node:crypto';
import * as z from 'zod';

/**
 * An event as the outbox keeps it, independent of the wire schema (CloudEvents 1.0 or the Event
 * Grid schema) chosen when it is published.
 */
export const eventRecordSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  /** CloudEvents `source`; the Event Grid schema leaves the topic to Event Grid. */
  source: z.string().min(1),
  subject: z.string(),
  time: z.string(),
  dataVersion: z.string().default('1.0'),
  data: z.record(z.string(), z.unknown()),
  /**
   * An ACS per-recipient event ("...WithUser", "ChatMessageReceived"): published once per recipient
   * of its change (the change's `recipients`, less `exclude`), so an entry stores the event once.
   */
  perRecipient: z.object({ exclude: z.array(z.string()).optional() }).optional(),
});
export type EventRecord = z.infer<typeof eventRecordSchema>;

/** What domain code hands to the outbox; id and time are filled in when not given. */
export interface EventDraft {
  type: string;
  subject: string;
  data: Record<string, unknown>;
  /** A stable id derived from what happened, so a rerun sends the same id (receivers deduplicate). */
  id?: string;
  time?: string;
  dataVersion?: string;
  perRecipient?: { exclude?: string[] };
}

export type EventPayloadMode = 'full' | 'minimal';

/**
 * Keys whose values are content or names, which `minimal` payloads leave out because Event Grid may
 * hold event data outside the geography. Applied at any depth.
 */
const CONTENT_KEYS = new Set([
  'messageBody',
  'message',
  'content',
  'topic',
  'displayName',
  'senderDisplayName',
  'metadata',
  'properties',
  'label',
  // An SMS delivery report's `tag`: the sender's own words.
  'tag',
  // Advanced Messaging (WhatsApp): a media's caption and file name, a reaction's emoji, a button's or list reply's text.
  'caption',
  'fileName',
  'emoji',
  'button',
  'interactive',
]);

export function redactForMinimal(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactForMinimal);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .filter(([key]) => !CONTENT_KEYS.has(key))
        .map(([key, v]) => [key, redactForMinimal(v)]),
    );
  }
  return value;
}

/** A deterministic UUID-shaped id from parts (same parts, same id). */
export function stableId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export function toEventRecord(
  draft: EventDraft,
  options: { changeId: string; index: number; source: string; mode: EventPayloadMode; now: Date },
): EventRecord {
  const data = options.mode === 'minimal' ? (redactForMinimal(draft.data) as Record<string, unknown>) : draft.data;
  return {
    id: draft.id ?? stableId(options.changeId, String(options.index)),
    type: draft.type,
    source: options.source,
    subject: draft.subject,
    time: draft.time ?? options.now.toISOString(),
    dataVersion: draft.dataVersion ?? '1.0',
    data,
    ...(draft.perRecipient ? { perRecipient: draft.perRecipient } : {}),
  };
}

/**
 * The events to publish: per-recipient events become one event per recipient, with the ACS
 * `recipientCommunicationIdentifier`, the subject suffix `/recipient/{rawId}` and an id derived from
 * the event's id and the recipient (stable across retries).
 */
export function expandRecipients(events: EventRecord[], recipients: readonly string[] = []): EventRecord[] {
  return events.flatMap((event) => {
    if (!event.perRecipient) return [event];
    const { perRecipient, ...base } = event;
    const excluded = new Set(perRecipient.exclude ?? []);
    return recipients
      .filter((recipient) => !excluded.has(recipient))
      .map((recipient) => ({
        ...base,
        id: stableId(event.id, recipient),
        subject: `${event.subject}/recipient/${recipient}`,
        data: { ...event.data, recipientCommunicationIdentifier: { rawId: recipient, kind: 'communicationUser', communicationUser: { id: recipient } } },
      }));
  });
}
