import * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import { noControlCharacters } from './email-message.js';

/**
 * A resource's e-mail domains and their sender usernames (MailFrom addresses), the equivalent of
 * ACS's email domain resources linked to a communication resource. The operator records a domain's
 * verification states (this service runs no DNS checks); a domain may send once Domain, SPF, DKIM
 * and DKIM2 are Verified, which is what ACS requires before a custom domain can be linked. Both
 * kinds of item live in the resource's geography (container `emailDomains`, partition
 * `/resourceId`) until they are deleted.
 */
export const VERIFICATION_TYPES = ['Domain', 'SPF', 'DKIM', 'DKIM2', 'DMARC'] as const;
export type VerificationType = (typeof VERIFICATION_TYPES)[number];
export const VERIFICATION_STATUSES = ['NotStarted', 'VerificationRequested', 'VerificationInProgress', 'VerificationFailed', 'Verified', 'CancellationRequested'] as const;
export type VerificationStatus = (typeof VERIFICATION_STATUSES)[number];
/** What must be Verified before a domain sends. */
export const REQUIRED_FOR_SENDING: readonly VerificationType[] = ['Domain', 'SPF', 'DKIM', 'DKIM2'];
/** ACS: at most 100 sender usernames (MailFrom addresses) per domain. */
export const MAX_SENDER_USERNAMES_PER_DOMAIN = 100;

export interface EmailDomainRecord {
  id: string;
  resourceId: string;
  kind: 'emailDomain';
  domain: string;
  verificationStates: Record<VerificationType, VerificationStatus>;
  createdAt: string;
  updatedAt: string;
}

export interface SenderUsernameRecord {
  id: string;
  resourceId: string;
  kind: 'emailSenderUsername';
  domain: string;
  /** As the operator spelled it; matched without regard to case. */
  username: string;
  displayName: string;
  createdAt: string;
  updatedAt: string;
}

export const domainItemId = (domain: string) => `domain:${domain.toLowerCase()}`;
export const senderItemId = (domain: string, username: string) => `sender:${domain.toLowerCase()}:${username.toLowerCase()}`;

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const USERNAME = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;

export function parseDomainName(value: string | undefined): string {
  const domain = (value ?? '').trim().toLowerCase();
  if (!DOMAIN.test(domain)) {
    throw new ServiceError('ValidationError', `'${(value ?? '').slice(0, 100)}' is not a domain name (such as contoso.com).`, { target: 'domain' });
  }
  return domain;
}

export function parseUsername(value: string | undefined): string {
  const username = (value ?? '').trim();
  if (!USERNAME.test(username)) {
    throw new ServiceError('ValidationError', `'${username.slice(0, 100)}' is not a sender username: 1-64 letters, digits, '.', '-' or '_', starting and ending with a letter or digit.`, {
      target: 'username',
    });
  }
  return username;
}

const statusValue = z.union(
  [z.enum(VERIFICATION_STATUSES), z.object({ status: z.enum(VERIFICATION_STATUSES) }).transform((s) => s.status)],
  { error: `a verification state is one of ${VERIFICATION_STATUSES.join(', ')} (or {"status": ...})` },
);

export const putDomainBodySchema = z.strictObject({
  verificationStates: z.partialRecord(z.enum(VERIFICATION_TYPES, { error: `verification types are ${VERIFICATION_TYPES.join(', ')}` }), statusValue).optional(),
});
export type PutDomainBody = z.infer<typeof putDomainBodySchema>;

export const putSenderBodySchema = z.strictObject({
  displayName: z.string({ error: 'displayName must be a string' }).max(256, 'displayName must be at most 256 characters').refine(noControlCharacters, 'displayName must not contain control characters').optional(),
});
export type PutSenderBody = z.infer<typeof putSenderBodySchema>;

export const canSend = (record: Pick<EmailDomainRecord, 'verificationStates'>) => REQUIRED_FOR_SENDING.every((type) => record.verificationStates[type] === 'Verified');

export function domainView(record: EmailDomainRecord, dataLocation: string): Record<string, unknown> {
  return {
    name: record.domain,
    domainManagement: 'CustomerManaged',
    dataLocation,
    verificationStates: Object.fromEntries(VERIFICATION_TYPES.map((type) => [type, { status: record.verificationStates[type] }])),
    verified: canSend(record),
    userEngagementTracking: 'Disabled',
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}

export function senderView(record: SenderUsernameRecord): Record<string, unknown> {
  return {
    username: record.username,
    displayName: record.displayName,
    domain: record.domain,
    mailFrom: `${record.username}@${record.domain}`,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
  };
}
