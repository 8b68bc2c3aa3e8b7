import type { RecipientKind } from './email-message.js';

/**
 * A send operation as its geography keeps it (container `emailOperations`, partition `/resourceId`).
 * While the message is being delivered it names the sender and the recipients (the addresses are
 * needed to deliver, and a data subject request finds pending messages by `subjectKeys`); the
 * content itself is in a blob (email-content-store.ts). Once every recipient has its outcome, the
 * content blob is deleted and the operation keeps only its status, counts and times, no address,
 * until `expiresAt` (EMAIL_OPERATION_RETENTION_HOURS after completion).
 */
export type EmailSendStatus = 'NotStarted' | 'Running' | 'Succeeded' | 'Failed' | 'Canceled';
export const TERMINAL_STATUSES: readonly EmailSendStatus[] = ['Succeeded', 'Failed', 'Canceled'];

/** A recipient's outcome, in the words of ACS's delivery reports; `pending` until it has one. */
export type RecipientState = 'pending' | 'Delivered' | 'Bounced' | 'Suppressed' | 'Failed';

export interface RecipientRecord {
  /** The address as given (delivery and reports). */
  address: string;
  /** The address in lower case (matching, suppression, data subject requests). */
  key: string;
  kind: RecipientKind;
  state: RecipientState;
  /** SMTP transactions tried for it. */
  attempts: number;
  /** The relay's last reply code and enhanced status code (RFC 3463), if any. */
  code?: number;
  enhanced?: string;
  /** When its outcome (or last deferral) happened. */
  at?: string;
  /** Its delivery report was committed to the outbox. */
  reported?: boolean;
}

export interface EmailOperationRecord {
  id: string;
  resourceId: string;
  kind: 'emailOperation';
  status: EmailSendStatus;
  error?: { code: string; message: string } | null;
  createdAt: string;
  updatedAt: string;
  completedAt?: string | null;
  /** Set at completion; from then on the status answers 404 and the retention purge deletes it. */
  expiresAt?: string | null;
  /** A keyed hash of the request body: a repeated Operation-Id with another body is refused. */
  requestHash: string;
  /** When the next delivery attempt is due; while a worker holds the lease, when the lease runs out; null once finished. */
  nextAttemptAt: string | null;
  lease: { owner: string; until: string } | null;
  /** Delivery runs so far (the backoff doubles with each). */
  attempts: number;
  /** While delivering only (dropped at completion): the sender in lower case, and as given (MAIL FROM, reports). */
  sender?: string | null;
  senderAddress?: string | null;
  internetMessageId?: string | null;
  contentBlob?: string | null;
  recipients?: RecipientRecord[] | null;
  /** The sender, recipients and reply-to addresses in lower case: what a data subject request finds a pending message by. */
  subjectKeys?: string[] | null;
  /** After completion: how many recipients ended how. */
  summary?: Partial<Record<Exclude<RecipientState, 'pending'>, number>>;
  _etag?: string;
}

export const isTerminal = (status: EmailSendStatus) => TERMINAL_STATUSES.includes(status);

/**
 * An operation as it is kept once finished (delivered, dropped or canceled): its status, error and
 * expiry, and nothing of the message: sender, recipients, message id, content and subject keys are
 * dropped, the one place that says so.
 */
export function finishedOperation(
  op: EmailOperationRecord,
  outcome: { status: EmailSendStatus; error: EmailOperationRecord['error']; now: Date; retentionHours: number; summary?: EmailOperationRecord['summary'] },
): EmailOperationRecord {
  const at = outcome.now.toISOString();
  return {
    ...op,
    status: outcome.status,
    error: outcome.error,
    completedAt: at,
    updatedAt: at,
    expiresAt: new Date(outcome.now.getTime() + outcome.retentionHours * 3_600_000).toISOString(),
    nextAttemptAt: null,
    lease: null,
    sender: null,
    senderAddress: null,
    internetMessageId: null,
    contentBlob: null,
    recipients: null,
    subjectKeys: null,
    ...(outcome.summary ? { summary: outcome.summary } : {}),
  };
}

/** What `GET /emails/operations/{id}` and the send answer: ACS's EmailSendResult. */
export function operationView(record: Pick<EmailOperationRecord, 'id' | 'status' | 'error'>): { id: string; status: EmailSendStatus; error?: { code: string; message: string } } {
  return { id: record.id, status: record.status, ...(record.error ? { error: { code: record.error.code, message: record.error.message } } : {}) };
}

/** The error of an operation none of whose recipients was delivered because every attempt failed (ACS's words). */
export const EMAIL_DROPPED = { code: 'EmailDropped', message: 'Email was dropped after several attempts to deliver.' } as const;
export const EMAIL_REFUSED = { code: 'EmailDropped', message: 'Email was dropped: the relay refused the message permanently.' } as const;
export const EMAIL_CANCELED = { code: 'Canceled', message: 'The message was canceled by a data subject request before it was delivered.' } as const;
