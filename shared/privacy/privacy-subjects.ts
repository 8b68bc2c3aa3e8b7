import { isAcsUserId } from '../identity/identity-id.js';
import { createHmac } from 'node:crypto';
import * as z from 'zod';
import { phoneRawId } from '../oplog/subject-ids.js';

/**
 * The subjects of a data subject request: the identity ids, phone numbers and e-mail addresses of
 * one human user. Stores find them by `keys`: identity ids as they are, phone numbers as ACS raw ids
 * (`4:+14255550123`, how recordings and logs name them), e-mail addresses in lower case.
 */
const MAX_PER_KIND = 100;

export const privacySubjectsSchema = z
  .strictObject({
    identityIds: z
      .array(z.string().refine(isAcsUserId, "identityIds must be communication user ids ('8:acs:...')"), { error: 'identityIds must be a list of communication user ids' })
      .max(MAX_PER_KIND, `at most ${MAX_PER_KIND} identityIds`)
      .default([]),
    phoneNumbers: z
      .array(z.string().regex(/^\+[1-9]\d{6,14}$/, 'phoneNumbers must be E.164 numbers such as +14255550123'), { error: 'phoneNumbers must be a list of E.164 numbers' })
      .max(MAX_PER_KIND, `at most ${MAX_PER_KIND} phoneNumbers`)
      .default([]),
    emails: z
      .array(z.email({ error: 'emails must be e-mail addresses' }).max(320), { error: 'emails must be a list of e-mail addresses' })
      .max(MAX_PER_KIND, `at most ${MAX_PER_KIND} emails`)
      .default([]),
  }, { error: 'subjects must be an object with identityIds, phoneNumbers and/or emails' })
  .refine((s) => s.identityIds.length + s.phoneNumbers.length + s.emails.length > 0, 'subjects must name at least one identity id, phone number or e-mail address');
export type PrivacySubjects = z.infer<typeof privacySubjectsSchema>;

export const PRIVACY_ACTIONS = ['inventory', 'export', 'delete'] as const;
export type PrivacyAction = (typeof PRIVACY_ACTIONS)[number];

export const privacyRequestBodySchema = z.strictObject({
  action: z.enum(PRIVACY_ACTIONS, { error: "action must be 'inventory', 'export' or 'delete'" }),
  subjects: privacySubjectsSchema,
});
export type PrivacyRequestBody = z.infer<typeof privacyRequestBodySchema>;

/** The de-duplicated subjects, and every key a store may file them under. */
export function normalizeSubjects(subjects: PrivacySubjects): PrivacySubjects & { keys: string[] } {
  const identityIds = [...new Set(subjects.identityIds)];
  const phoneNumbers = [...new Set(subjects.phoneNumbers)];
  const emails = [...new Set(subjects.emails.map((e) => e.trim().toLowerCase()))];
  return { identityIds, phoneNumbers, emails, keys: [...identityIds, ...phoneNumbers.map(phoneRawId), ...emails] };
}

/**
 * A subject as receipts and finished requests keep it: an HMAC under the service's hash key and the
 * resource id, so a receipt proves which subjects were erased to whoever can present them, and the
 * same person's hashes do not link across resources.
 */
export function subjectHash(hashKey: string, resourceId: string, subjectKey: string): string {
  return 'sh:' + createHmac('sha256', hashKey).update(`privacy-subject\u0000${resourceId}\u0000${subjectKey.trim().toLowerCase()}`).digest('base64url').slice(0, 32);
}
