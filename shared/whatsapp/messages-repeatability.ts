import { createHmac } from 'node:crypto';
import { ServiceError } from '../errors/service-error.js';
import type { GeoStore } from '../stores/geo-store.js';
import { REPEATABILITY_HOURS, repeatabilityRecordId, type MessageRecords, type RepeatabilityRecord, type SendOutcome } from './message-records.js';
import { settleRepeatabilityClaim } from '../stores/repeatability-claim.js';

/**
 * Repeatable sends (OASIS Repeatable Requests, as Azure's data-plane APIs take them): a send with
 * `Repeatability-Request-ID` and `Repeatability-First-Sent` is carried out once. The first request
 * with an id claims it (a Cosmos create: exactly one wins) and records its outcome; a repeat within
 * REPEATABILITY_HOURS of its first-sent time with the same body sends nothing and answers that
 * outcome; both carry `Repeatability-Result: accepted`. A repeat with another body is a 409, and an
 * id without a valid first-sent time a 400, both `rejected`. An outcome that may pass (429, 5xx)
 * gives its claim up, so a retry sends. A repeat that arrives while the first is still being sent is
 * a 503 with Retry-After (the SDKs' retry policy then asks again); a claim left without an outcome
 * for STALE_CLAIM_MS (its sender stopped) is taken over.
 */
export interface Repeatability {
  requestId: string;
  firstSent: Date;
}

const STALE_CLAIM_MS = 5 * 60_000;
const SKEW_MS = 5 * 60_000;
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

const rejected = (code: 'ValidationError' | 'Conflict', message: string, target: string) =>
  new ServiceError(code, message, { target, headers: { 'repeatability-result': 'rejected' } });

/** The request's repeatability headers, or undefined when it has none. */
export function parseRepeatability(headers: { get(name: string): string | null }, now: Date): Repeatability | undefined {
  const requestId = headers.get('repeatability-request-id');
  if (requestId === null) return undefined;
  if (!/^[\x21-\x7e]{1,256}$/.test(requestId)) throw rejected('ValidationError', 'Repeatability-Request-ID must be 1 to 256 printable characters (a GUID, typically).', 'Repeatability-Request-ID');
  const firstSent = headers.get('repeatability-first-sent');
  if (firstSent === null || !IMF_FIXDATE.test(firstSent) || Number.isNaN(Date.parse(firstSent))) {
    throw rejected('ValidationError', "Repeatability-First-Sent must accompany Repeatability-Request-ID as an HTTP date such as 'Tue, 01 Dec 2026 23:21:16 GMT'.", 'Repeatability-First-Sent');
  }
  const sent = Date.parse(firstSent);
  if (sent > now.getTime() + SKEW_MS) throw rejected('ValidationError', 'Repeatability-First-Sent is in the future.', 'Repeatability-First-Sent');
  if (sent <= now.getTime() - REPEATABILITY_HOURS * 3_600_000) {
    throw rejected('ValidationError', `Repeatability-First-Sent is more than ${REPEATABILITY_HOURS} hours ago, longer than this service remembers a request.`, 'Repeatability-First-Sent');
  }
  return { requestId, firstSent: new Date(sent) };
}

/** A keyed hash of the body (the key is the telemetry hash key), so a stored hash cannot be matched against guessed texts. */
export const bodyHash = (key: string, resourceId: string, body: Buffer) => createHmac('sha256', key).update(resourceId).update('\u0000').update(body).digest('base64');

export type ClaimResult = { kind: 'new' } | { kind: 'replay'; outcome: SendOutcome };

export async function claimRepeatability(records: MessageRecords, geo: GeoStore, resourceId: string, repeatability: Repeatability, hash: string, now: Date): Promise<ClaimResult> {
  const record: RepeatabilityRecord = {
    id: repeatabilityRecordId(resourceId, repeatability.requestId),
    resourceId,
    kind: 'messagesRepeatability',
    bodyHash: hash,
    firstSent: repeatability.firstSent.toISOString(),
    createdAt: now.toISOString(),
    expiresAt: new Date(repeatability.firstSent.getTime() + REPEATABILITY_HOURS * 3_600_000).toISOString(),
  };
  const container = await records.container(geo);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await container.items.create(record);
      return { kind: 'new' };
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
    const existing = await records.read<RepeatabilityRecord>(geo, resourceId, record.id);
    if (!existing) continue;
    const expired = existing.expiresAt <= now.toISOString();
    const stale = !existing.outcome && now.getTime() - Date.parse(existing.createdAt) > STALE_CLAIM_MS;
    if (expired || stale) {
      // Take it over, unless someone else just did.
      try {
        await container.item(record.id, resourceId).replace(record, { accessCondition: { type: 'IfMatch', condition: existing._etag ?? '' } });
        return { kind: 'new' };
      } catch (error) {
        if ((error as { code?: number }).code !== 412) throw error;
        continue;
      }
    }
    if (existing.bodyHash !== hash) {
      throw rejected('Conflict', 'This Repeatability-Request-ID was already used for a request with another body.', 'Repeatability-Request-ID');
    }
    if (!existing.outcome) {
      throw new ServiceError('ServiceUnavailable', 'The request with this Repeatability-Request-ID is still being processed; send it again shortly.', { headers: { 'retry-after': '1' } });
    }
    return { kind: 'replay', outcome: existing.outcome };
  }
  throw new ServiceError('ServiceUnavailable', 'The request with this Repeatability-Request-ID is being claimed concurrently; send it again shortly.', { headers: { 'retry-after': '1' } });
}

/** Records the outcome; a transient one (429, 5xx) gives the claim up instead. */
export async function settleRepeatability(records: MessageRecords, geo: GeoStore, resourceId: string, repeatability: Repeatability, outcome: SendOutcome): Promise<void> {
  const container = await records.container(geo);
  const id = repeatabilityRecordId(resourceId, repeatability.requestId);
  await settleRepeatabilityClaim(container, id, resourceId, outcome.status, outcome);
}
