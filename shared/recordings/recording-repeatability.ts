import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { ServiceError } from '../errors/service-error.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Repeatable uploads (`repeatability-request-id`, `repeatability-first-sent`).
 *
 * Every upload attempt streams into a blob of its own (a fresh recording id) and commits it once every
 * check passed. Which attempt a repeatability id stands for is then settled by one atomic write: the
 * first to create the *claim*, an item of the `recordings` container whose id is derived from the
 * resource and the repeatability id (Cosmos `create`: exactly one succeeds, the others get 409).
 * The winner registers its recording; every other attempt deletes its own blob and answers from the
 * claim: 200 with the winner's recording for the same file (same SHA-256, size and media type), 409
 * for another. Attempts never write into each other's blobs, so the record and the blob always agree.
 *
 * The claim holds no personal data (a hash of the repeatability id, the recording id, the file's hash,
 * size, media type and ETag, and its times). It goes when its recording is deleted (by request,
 * erasure or expiry). A claim is stale, and the next attempt with that repeatability id takes it over,
 * once its expiry has passed, or when its recording has no record and its blob is gone or it was
 * claimed more than CLAIM_SETTLE_MS ago (a winner that stopped half-way).
 */
export interface RepeatabilityClaim {
  id: string;
  resourceId: string;
  kind: 'recordingRepeatability';
  recordingId: string;
  contentSha256: string;
  contentLength: number;
  mediaType: string;
  /** The ETag of the recording's committed blob. */
  etag: string;
  createdAt: string;
  expiresAt: string;
  claimedAt: string;
}

/**
 * How long after its claim a winner's blob without a record is taken to be a registration in
 * progress (which an identical attempt may finish); past it, the claim is stale. A winner registers
 * within seconds of claiming, and a registration it left pending in the outbox is finished by the
 * republisher (every 30 s, after a minute's grace) well within this time.
 */
export const CLAIM_SETTLE_MS = 10 * 60_000;

/** The claim's item id: never a recording id (those are 32 hex digits). */
export function repeatabilityKey(resourceId: string, requestId: string): string {
  return `repeatability-${createHash('sha256').update(`${resourceId}\u0000${requestId}`).digest('hex').slice(0, 40)}`;
}

/** How far ahead of the service's clock a client's `repeatability-first-sent` may be (clock skew). */
export const FIRST_SENT_MAX_SKEW_MS = 5 * 60_000;

/** An HTTP date (IMF-fixdate, RFC 9110), as `Date.prototype.toUTCString()` writes it. */
const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

const firstSentError = (message: string) => new ServiceError('ValidationError', message, { target: 'repeatability-first-sent' });

/**
 * The creation time of a repeatable upload, from its `repeatability-first-sent` (the time of the
 * first attempt, so every retry gives the recording the same creation time and expiry):
 * - absent: now;
 * - not an HTTP date: 400;
 * - later than now by more than FIRST_SENT_MAX_SKEW_MS: 400; later by at most that: now (so the
 *   expiry is never more than the retention period away);
 * - so old that the recording would already have expired (first-sent + retention <= now): 400;
 * - otherwise first-sent itself.
 */
export function creationTimeFor(firstSent: string | undefined, now: Date, retentionHours: number): Date {
  if (firstSent === undefined) return now;
  const sent = IMF_FIXDATE.test(firstSent.trim()) ? Date.parse(firstSent) : Number.NaN;
  if (Number.isNaN(sent)) {
    throw firstSentError("repeatability-first-sent must be an HTTP date such as 'Sat, 21 Nov 2026 09:00:00 GMT'.");
  }
  if (sent > now.getTime() + FIRST_SENT_MAX_SKEW_MS) {
    throw firstSentError(`repeatability-first-sent is more than ${FIRST_SENT_MAX_SKEW_MS / 60_000} minutes in the future.`);
  }
  if (sent >= now.getTime()) return now;
  if (sent + retentionHours * 3600_000 <= now.getTime()) {
    throw firstSentError(`repeatability-first-sent is more than ${retentionHours} hours ago: a recording first sent then has already expired.`);
  }
  return new Date(sent);
}

/** The outcome of trying to take a repeatability id for an attempt's recording. */
export type ClaimOutcome = { won: true } | { won: false; claim: RepeatabilityClaim; itemEtag: string };

/**
 * Creates the claim, or (with `replacing`, the Cosmos `_etag` of a stale claim) replaces it. Exactly one
 * concurrent attempt gets `won`; the others get the claim that stands.
 */
export async function claimRepeatability(geo: GeoStore, claim: RepeatabilityClaim, replacing?: string): Promise<ClaimOutcome | undefined> {
  const container = await geo.container('recordings');
  try {
    if (replacing) await container.item(claim.id, claim.resourceId).replace(claim, { accessCondition: { type: 'IfMatch', condition: replacing } });
    else await container.items.create(claim);
    return { won: true };
  } catch (error) {
    const code = (error as { code?: number }).code;
    // 409: another attempt created it first; 412 or 404: the stale claim changed or went meanwhile.
    if (code !== 409 && code !== 412 && code !== 404) throw error;
  }
  return readClaim(container, claim.resourceId, claim.id);
}

async function readClaim(container: Container, resourceId: string, id: string): Promise<ClaimOutcome | undefined> {
  const { resource } = await container.item(id, resourceId).read<RepeatabilityClaim & { _etag: string }>();
  if (!resource || resource.kind !== 'recordingRepeatability') return undefined;
  const { _etag: itemEtag, ...claim } = resource;
  return { won: false, claim: claim as RepeatabilityClaim, itemEtag };
}

/**
 * Removes a repeatability claim if it still stands for `recordingId` (a claim taken over by a later
 * recording is left to that one). Called when the recording is deleted, for whatever reason.
 */
export async function releaseRepeatability(geo: GeoStore, resourceId: string, key: string, recordingId: string): Promise<void> {
  const container = await geo.container('recordings');
  const found = await readClaim(container, resourceId, key);
  if (!found || found.won || found.claim.recordingId !== recordingId) return;
  try {
    await container.item(key, resourceId).delete({ accessCondition: { type: 'IfMatch', condition: found.itemEtag } });
  } catch (error) {
    const code = (error as { code?: number }).code;
    if (code !== 404 && code !== 412) throw error;
  }
}
