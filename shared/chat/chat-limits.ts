/**
 * The ACS chat limits (https://learn.microsoft.com/azure/communication-services/concepts/service-limits#chat).
 * Going over one answers 400 naming the limit.
 */
export const CHAT_LIMITS = {
  /** Message content, in UTF-8 bytes ("about 28 KB"). */
  maxContentBytes: 28 * 1024,
  /** Metadata of a message, thread or participant, as serialized JSON. */
  maxMetadataBytes: 1024,
  maxPageSize: 200,
  defaultPageSize: 100,
  maxParticipantsPerThread: 250,
  maxParticipantsPerAdd: 200,
  /** Not documented by ACS; chosen so that a topic or name cannot carry a document. */
  maxTopicLength: 1024,
  maxDisplayNameLength: 256,
  minRetentionDays: 30,
  maxRetentionDays: 90,
} as const;
