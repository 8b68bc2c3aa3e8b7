import * as z from 'zod';
import { CHAT_LIMITS } from './chat-limits.js';
import { communicationIdentifierSchema } from './communication-identifier.js';

/** Request bodies of the Chat API 2025-03-15, with the ACS limits. */

const utf8Bytes = (value: string) => Buffer.byteLength(value, 'utf8');

export const metadataSchema = z
  .record(z.string(), z.string({ error: 'metadata values must be strings' }))
  .refine((m) => utf8Bytes(JSON.stringify(m)) <= CHAT_LIMITS.maxMetadataBytes, {
    message: `metadata is larger than the limit of ${CHAT_LIMITS.maxMetadataBytes} bytes`,
  });

const displayNameSchema = z
  .string({ error: 'displayName must be a string' })
  .max(CHAT_LIMITS.maxDisplayNameLength, `displayName is longer than the limit of ${CHAT_LIMITS.maxDisplayNameLength} characters`);

const topicSchema = z
  .string({ error: 'topic is required' })
  .trim()
  .min(1, 'topic must not be empty')
  .max(CHAT_LIMITS.maxTopicLength, `topic is longer than the limit of ${CHAT_LIMITS.maxTopicLength} characters`);

/**
 * An instant: an RFC 3339 date-time with its offset (`Z` or `±hh:mm`), stored in one canonical form,
 * its UTC `toISOString()`. Instants whose UTC year is not four digits are refused: their ISO form
 * (`+010000-...`, `-000001-...`) would not compare with the others as text, and
 * `9999-12-31T23:59:59-23:59` (the year 10000 in UTC) would sort before every real time.
 */
const dateTimeSchema = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' }).transform((value, ctx) => {
  const instant = Date.parse(value);
  const canonical = Number.isNaN(instant) ? undefined : new Date(instant).toISOString();
  if (canonical === undefined || !/^\d{4}-/.test(canonical)) {
    ctx.addIssue({ code: 'custom', message: 'must be an instant from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (in UTC)' });
    return z.NEVER;
  }
  return canonical;
});

export const retentionPolicySchema = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({
      kind: z.literal('threadCreationDate'),
      deleteThreadAfterDays: z
        .number({ error: 'deleteThreadAfterDays is required for kind threadCreationDate' })
        .int('deleteThreadAfterDays must be a whole number of days')
        .min(CHAT_LIMITS.minRetentionDays, `deleteThreadAfterDays must be between ${CHAT_LIMITS.minRetentionDays} and ${CHAT_LIMITS.maxRetentionDays}`)
        .max(CHAT_LIMITS.maxRetentionDays, `deleteThreadAfterDays must be between ${CHAT_LIMITS.minRetentionDays} and ${CHAT_LIMITS.maxRetentionDays}`),
    }),
    z.strictObject({ kind: z.literal('none') }),
  ],
  { error: "retentionPolicy.kind must be 'threadCreationDate' or 'none'" },
);
export type ChatRetentionPolicy = z.infer<typeof retentionPolicySchema>;

export const participantSchema = z.object({
  communicationIdentifier: communicationIdentifierSchema,
  displayName: displayNameSchema.optional(),
  shareHistoryTime: dateTimeSchema.optional(),
  metadata: metadataSchema.optional(),
});
export type ParticipantInput = z.infer<typeof participantSchema>;

export const createThreadSchema = z.object({
  topic: topicSchema,
  participants: z
    .array(participantSchema)
    .max(CHAT_LIMITS.maxParticipantsPerThread, `a thread can have at most ${CHAT_LIMITS.maxParticipantsPerThread} participants`)
    .optional(),
  metadata: metadataSchema.optional(),
  retentionPolicy: retentionPolicySchema.optional(),
});

/** `retentionPolicy: null` clears the policy (what the SDK's `updateProperties({retentionPolicy: null})` sends). */
export const updateThreadSchema = z.object({
  topic: topicSchema.optional(),
  metadata: metadataSchema.optional(),
  retentionPolicy: retentionPolicySchema.nullable().optional(),
});

export const MESSAGE_TYPES = ['text', 'html'] as const;

const contentSchema = z
  .string({ error: 'content is required' })
  .refine((c) => utf8Bytes(c) <= CHAT_LIMITS.maxContentBytes, {
    message: `content is larger than the limit of ${CHAT_LIMITS.maxContentBytes} bytes`,
  });

export const sendMessageSchema = z.object({
  content: contentSchema,
  senderDisplayName: displayNameSchema.optional(),
  type: z.enum(MESSAGE_TYPES, { error: "type must be 'text' or 'html' (system message types cannot be sent)" }).default('text'),
  metadata: metadataSchema.optional(),
});

/** An edit must change something: an empty update is refused, not recorded as an edit. */
export const updateMessageSchema = z
  .object({
    content: contentSchema.optional(),
    metadata: metadataSchema.optional(),
  })
  .refine((body) => body.content !== undefined || body.metadata !== undefined, {
    message: 'an update must set content or metadata',
    path: ['content'],
  });

export const addParticipantsSchema = z.object({
  participants: z
    .array(participantSchema, { error: 'participants is required' })
    .min(1, 'participants must not be empty')
    .max(CHAT_LIMITS.maxParticipantsPerAdd, `at most ${CHAT_LIMITS.maxParticipantsPerAdd} participants can be added at once`),
});

export const removeParticipantSchema = communicationIdentifierSchema;

export const sendReadReceiptSchema = z.object({
  chatMessageId: z.string({ error: 'chatMessageId is required' }).min(1, 'chatMessageId is required'),
});

export const typingNotificationSchema = z.object({ senderDisplayName: displayNameSchema.optional() }).optional();

/** Query parameters of the list operations. */
export const pageSizeSchema = z.coerce
  .number({ error: 'maxPageSize must be a whole number' })
  .int('maxPageSize must be a whole number')
  .min(1, `maxPageSize must be between 1 and ${CHAT_LIMITS.maxPageSize}`)
  .max(CHAT_LIMITS.maxPageSize, `maxPageSize must be between 1 and ${CHAT_LIMITS.maxPageSize}`);

export const skipSchema = z.coerce.number({ error: 'skip must be a whole number' }).int('skip must be a whole number').min(0, 'skip must not be negative');

export const startTimeSchema = dateTimeSchema;
