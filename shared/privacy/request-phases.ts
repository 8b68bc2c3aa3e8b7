import type { PrivacyAction } from './privacy-subjects.js';
import { participationSource, messageSource, readReceiptSource } from './sources/chat-sources.js';
import { identitySource, tokenSource } from './sources/identity-sources.js';
import { emailMessageSource, emailSenderSource, emailSuppressionSource } from './sources/email-sources.js';
import { operationLogSource } from './sources/log-source.js';
import { outboxSource } from './sources/outbox-source.js';
import { phoneNumberSource, smsSource } from './sources/phone-sources.js';
import { recordingSource } from './sources/recording-source.js';
import { privacyResultSource } from './sources/result-source.js';
import type { SubjectSource } from './sources/subject-source.js';

/**
 * The stores each action walks, in order. Delete revokes tokens first (nothing new is written about
 * the identities while they are erased), erases chat data before the memberships that find it,
 * the identities after everything that names them, and the outbox last (the erasure's own events
 * name the people too; they are erased once published).
 */
export const PHASES: Record<PrivacyAction, readonly SubjectSource[]> = {
  inventory: [identitySource, participationSource, messageSource, readReceiptSource, recordingSource, operationLogSource, phoneNumberSource, smsSource, emailSuppressionSource, emailSenderSource, emailMessageSource, outboxSource, privacyResultSource],
  export: [identitySource, participationSource, messageSource, readReceiptSource, recordingSource, operationLogSource, phoneNumberSource, smsSource, emailSuppressionSource, emailSenderSource, emailMessageSource],
  delete: [tokenSource, messageSource, readReceiptSource, participationSource, recordingSource, emailMessageSource, emailSuppressionSource, emailSenderSource, identitySource, operationLogSource, phoneNumberSource, smsSource, privacyResultSource, outboxSource],
};

/** The export bundle's sections, in the order they are written. */
export const EXPORT_SECTIONS = PHASES.export.map((s) => s.section!);
