import type { ChatContext } from '../../chat/chat-context.js';
import type { EmailService } from '../../email/email-service.js';
import type { IdentityService } from '../../identity/identity-service.js';
import type { OperationLogs } from '../../oplog/operation-log.js';
import type { RecordingService } from '../../recordings/recording-service.js';
import type { Resource } from '../../resources/resource.js';
import type { ActiveHolds } from '../../retention/legal-holds.js';
import type { GeoStore } from '../../stores/geo-store.js';
import type { Cursor } from '../privacy-request.js';
import type { PrivacyAction, PrivacySubjects } from '../privacy-subjects.js';

/**
 * A place that holds data about people, as a data subject request walks it: page by page from a
 * cursor (so the work is bounded per step and resumes where it stopped), each item named by kind and
 * id, with the legal holds that keep it, its export view, and what erasing it needs. Adding a store
 * (e-mail, SMS, phone records) is adding a source to the phase lists in request-phases.ts.
 */
export type ItemKind =
  | 'accessTokens'
  | 'identity'
  | 'chatParticipation'
  | 'chatMessage'
  | 'chatSystemMessage'
  | 'chatReadReceipt'
  | 'recording'
  | 'operationLog'
  | 'outboxEntry'
  | 'privacyResult'
  | 'phoneNumberAssignment'
  | 'phoneNumberSearch'
  | 'phoneNumberOperation'
  | 'smsOptOut'
  | 'smsDeliveryReportPending'
  | 'smsRepeatability'
  | 'emailSuppression'
  | 'emailSender'
  | 'emailMessage';

export interface FoundItem {
  kind: ItemKind;
  id: string;
  /** The legal holds that keep this item (none: it may be erased). */
  heldBy?: string[];
  /** What an export bundle holds of it (items without one are not exported). */
  view?: unknown;
  /** Extra facts an inventory lists (token state, counts); never message content. */
  facts?: Record<string, unknown>;
  /** What erasing it needs (small JSON: it is written into the request's checkpoint). */
  ref: unknown;
}

export interface SourcePage {
  items: FoundItem[];
  /** Where the next page starts; null when this source is done. */
  next: Cursor | null;
  /** Items that cannot be erased yet (events not yet published): the step is tried again later. */
  waiting?: number;
}

export interface PrivacyContext {
  action: PrivacyAction;
  resource: Resource;
  geo: GeoStore;
  subjects: PrivacySubjects & { keys: string[] };
  /** Keyed hashes of the subjects (previous requests' results are found by them). */
  subjectHashes: string[];
  requestId: string;
  holds: ActiveHolds;
  now(): Date;
  pageSize: number;
  chat: ChatContext;
  identities: IdentityService;
  recordings: RecordingService;
  oplogs: OperationLogs;
  email: EmailService;
}

export interface SubjectSource {
  /** The phase name (progress and inventory sections). */
  name: string;
  /** The export bundle's section for this source's items (none: not exported). */
  section?: string;
  page(ctx: PrivacyContext, cursor: Cursor | null): Promise<SourcePage>;
  /** Erases what `page` found. Must be safe to run again on the same refs. */
  erase(ctx: PrivacyContext, refs: unknown[]): Promise<void>;
}

/** The holds that keep anything naming one of these people (a held identity keeps what names it). */
export function heldByIdentities(holds: ActiveHolds, ids: Iterable<string>): string[] | undefined {
  const found = new Set<string>();
  for (const id of ids) for (const hold of holds.identities.get(id) ?? []) found.add(hold);
  return found.size > 0 ? [...found] : undefined;
}

/** Runs async work over items a few at a time. */
export async function inParallel<T>(items: T[], work: (item: T) => Promise<unknown>, width = 8): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(work));
}
