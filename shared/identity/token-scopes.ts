import * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import { parseWith } from '../http/validation.js';

/** The ACS token scopes (Identity API 2023-10-01). */
export const TOKEN_SCOPES = ['chat', 'voip', 'chat.join', 'chat.join.limited', 'voip.join'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const tokenScopeSchema = z.enum(TOKEN_SCOPES, {
  error: (issue) => `'${String(issue.input)}' is not a token scope; use one of ${TOKEN_SCOPES.join(', ')}`,
});

export const expiresInMinutesSchema = z
  .number({ error: 'expiresInMinutes must be a whole number of minutes' })
  .int('expiresInMinutes must be a whole number of minutes')
  .min(60, 'expiresInMinutes must be between 60 and 1440')
  .max(1440, 'expiresInMinutes must be between 60 and 1440');

export const createIdentityBodySchema = z.object({
  createTokenWithScopes: z.array(tokenScopeSchema).optional(),
  expiresInMinutes: expiresInMinutesSchema.optional(),
});

export const issueTokenBodySchema = z.object({
  scopes: z.array(tokenScopeSchema, { error: 'scopes is required: a list of token scopes' }),
  expiresInMinutes: expiresInMinutesSchema.optional(),
});

const acsValidation = (message: string, target: string) => new ServiceError('ValidationError', message, { target });

/**
 * The checks ACS makes first, with its own messages and targets (as its recorded answers show): a
 * missing or empty scope list, and an expiry outside 60-1440 minutes. The rest is the schema's.
 */
function checkAsAcs(body: unknown, scopesField: 'scopes' | 'createTokenWithScopes', required: boolean): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const fields = body as Record<string, unknown>;
  const scopes = fields[scopesField];
  if (scopes === undefined && required) throw acsValidation('Scopes: The Scopes field is required.', 'Scopes');
  if (Array.isArray(scopes) && scopes.length === 0) throw acsValidation('Invalid scopes - Scopes field is required.', scopesField);
  const minutes = fields.expiresInMinutes;
  if (typeof minutes === 'number' && Number.isInteger(minutes) && (minutes < 60 || minutes > 1440)) {
    throw acsValidation(`ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`, 'ExpiresInMinutes');
  }
}

/** The body of `POST identities/{id}/:issueAccessToken`. */
export function parseIssueTokenBody(body: unknown): z.infer<typeof issueTokenBodySchema> {
  checkAsAcs(body, 'scopes', true);
  return parseWith(issueTokenBodySchema, body);
}

/** The body of `POST identities` (an empty `createTokenWithScopes` is refused like empty scopes). */
export function parseCreateIdentityBody(body: unknown): z.infer<typeof createIdentityBodySchema> {
  checkAsAcs(body, 'createTokenWithScopes', false);
  return parseWith(createIdentityBodySchema, body);
}
