import { z } from 'zod';

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
