import type { PrivacyAction, PrivacySubjects } from './privacy-subjects.js';

/**
 * A data subject request as its geography keeps it (container `privacyRequests`, partition
 * `/resourceId`), with the checkpoint its worker resumes from. The subjects are kept in clear only
 * while the request runs; when it ends they are dropped and only their keyed hashes stay.
 */
export type PrivacyRequestStatus = 'notStarted' | 'running' | 'succeeded' | 'failed';

/** What a request found of one kind of item. */
export interface KindCounts {
  found: number;
  held: number;
  deleted: number;
}

/** A source's position, as JSON (kept in the request checkpoint). */
export type Cursor = object;

/** A delete step written before it is applied, so a worker that resumes redoes it and counts it once. */
export interface InFlightStep {
  /** What the store's `erase` is given (refs of the items found). */
  work: unknown[];
  /** What the step deletes, by kind (counted when it is applied). */
  deleted: Record<string, number>;
  /** Where the store's walk continues after it. */
  next: Cursor | null;
}

/** The result document being written (see result-bundle.ts). */
export interface BundleState {
  blocks: number;
  bytes: number;
  openSection: string | null;
  sectionItems: number;
  sections: string[];
}

export interface PrivacyRequestRecord {
  id: string;
  resourceId: string;
  kind: 'privacyRequest';
  action: PrivacyAction;
  status: PrivacyRequestStatus;
  subjects: PrivacySubjects | null;
  subjectHashes: string[];
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  completedAt?: string;
  /** The worker holding the request, until when (a crashed worker's lease runs out and another resumes). */
  lease: { owner: string; until: string } | null;
  /** Index into the action's phases (request-phases.ts), the position within it, and a step being applied. */
  phase: number;
  cursor: Cursor | null;
  inFlight: InFlightStep | null;
  /** Delete: how many times the final check found something left and the deletion ran again. */
  rounds: number;
  /** Delete: how many items this pass erased (a pass that erased nothing ends the request). */
  erasedThisRound?: number;
  /** Items of the current store that could not be erased yet (outbox entries awaiting publication). */
  waiting?: number;
  /** Failed runs in a row, and what the last one said (our own message; no data). */
  failures?: number;
  lastFailure?: string;
  counts: Record<string, KindCounts>;
  /** Legal holds that kept some of the subjects' data. */
  holdIds: string[];
  bundle: BundleState | null;
  /** The result blob (until it expires or a later erasure removes it), or the erasure receipt. */
  result: { blobName?: string; bytes?: number; receiptId?: string; erasedBy?: string } | null;
  error: { code: string; message: string } | null;
  /** When the finished request and its result are purged (7 days after completion). */
  expiresAt: string | null;
  /** The request id a client's repeatability-request-id maps to. */
  repeatabilityId?: string;
  _etag?: string;
}

/** How long a result stays downloadable and a finished request stays readable. */
export const RESULT_DAYS = 7;

export const emptyCounts = (): KindCounts => ({ found: 0, held: 0, deleted: 0 });
