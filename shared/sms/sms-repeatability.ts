import { phoneRawId } from '../oplog/subject-ids.js';
import type { GeoStore } from '../stores/geo-store.js';
import { REPEATABILITY_HOURS, repeatabilityId, type RecipientOutcome, type RepeatabilityRecord, type SmsRecords } from './sms-records.js';
import { settleRepeatabilityClaim } from '../stores/repeatability-claim.js';

/**
 * Repeatable sends, per recipient (the SMS SDK sends a `repeatabilityRequestId` and
 * `repeatabilityFirstSent` with every recipient). The first attempt claims the id (a Cosmos create:
 * exactly one wins) and records its outcome; a repeat within REPEATABILITY_HOURS sends nothing and
 * answers that outcome with `repeatabilityResult: accepted`. An attempt that failed for a reason
 * that may pass (429, 5xx: the link was down) gives its claim up, so a retry sends. Invalid values
 * are `rejected` with ACS's messages.
 */
export interface RecipientRequest {
  to: string;
  repeatabilityRequestId?: string;
  repeatabilityFirstSent?: string;
}

type Answer = RecipientOutcome & { repeatabilityResult: 'accepted' | 'rejected' };

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const RFC1123 = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
/** Clock skew tolerated for a first-sent time ahead of the service's clock. */
const SKEW_MS = 5 * 60_000;

const rejected = (httpStatusCode: number, errorMessage: string): Answer => ({ httpStatusCode, successful: false, errorMessage, repeatabilityResult: 'rejected' });

export async function claimRepeatability(
  records: SmsRecords,
  geo: GeoStore,
  input: { resourceId: string; phoneNumber: string; recipient: RecipientRequest; messageId: string; now: Date },
): Promise<{ answer?: Answer; messageId?: string }> {
  const { repeatabilityRequestId: requestId = '', repeatabilityFirstSent: firstSent } = input.recipient;
  if (!GUID.test(requestId)) return { answer: rejected(400, 'Request sent with Invalid value for repeatability-request-id. Expected is a GUID, 36 characters.') };
  if (firstSent === undefined || !RFC1123.test(firstSent) || Number.isNaN(Date.parse(firstSent))) {
    return { answer: rejected(400, 'Request sent with Invalid DateTime value for repeatability-first-sent. Expected is DateTime ,RFC1123 pattern.') };
  }
  const sent = Date.parse(firstSent);
  const now = input.now.getTime();
  if (sent > now + SKEW_MS || sent <= now - REPEATABILITY_HOURS * 3_600_000) {
    return { answer: rejected(400, `Request sent with a repeatability-first-sent outside the accepted window (the last ${REPEATABILITY_HOURS} hours).`) };
  }
  const record: RepeatabilityRecord = {
    id: repeatabilityId(input.resourceId, requestId),
    resourceId: input.resourceId,
    kind: 'smsRepeatability',
    phoneNumber: input.phoneNumber,
    recipient: input.recipient.to,
    subjects: [phoneRawId(input.recipient.to)],
    messageId: input.messageId,
    firstSent: new Date(sent).toISOString(),
    createdAt: input.now.toISOString(),
    expiresAt: new Date(sent + REPEATABILITY_HOURS * 3_600_000).toISOString(),
  };
  const container = await records.container(geo);
  try {
    await container.items.create(record);
    return { messageId: input.messageId };
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
  const existing = await records.read<RepeatabilityRecord>(geo, input.resourceId, record.id);
  if (!existing || existing.expiresAt <= input.now.toISOString()) {
    // Expired but not yet removed: this is a new request.
    if (existing) await container.items.upsert(record);
    return { messageId: input.messageId };
  }
  if (existing.recipient !== input.recipient.to || existing.phoneNumber !== input.phoneNumber) {
    return { answer: rejected(409, 'The repeatability-request-id was already used for another request.') };
  }
  // The first attempt's outcome; while it is still being sent, its message id (it is being accepted).
  return { answer: { ...(existing.outcome ?? { messageId: existing.messageId, httpStatusCode: 202, successful: true }), repeatabilityResult: 'accepted' } };
}

export async function settleRepeatability(records: SmsRecords, geo: GeoStore, resourceId: string, requestId: string, outcome: RecipientOutcome): Promise<void> {
  const container = await records.container(geo);
  const id = repeatabilityId(resourceId, requestId);
  await settleRepeatabilityClaim(container, id, resourceId, outcome.httpStatusCode, outcome);
}
