import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import { loadJose } from './jose.js';
import { TOKEN_SCOPES, type TokenScope } from './token-scopes.js';
import type { TokenKeyRing } from './token-key-ring.js';

/**
 * ACS user access tokens: JWTs (the SDKs read `exp` from them), signed ES256 with the key ring's
 * current key. Claims: the identity (`sub`, and `skypeid` as ACS has it), the scopes (`acsScope`, as
 * ACS has it, comma-separated), the resource id and geography, and the token generation of the
 * identity at issue time (`gen`).
 */
export const accessTokenClaimsSchema = z.object({
  sub: z.string(),
  skypeid: z.string(),
  acsScope: z.string(),
  resourceId: z.string(),
  geography: z.string(),
  gen: z.number().int().nonnegative(),
  iat: z.number(),
  exp: z.number(),
  jti: z.string(),
});
export type AccessTokenClaims = z.infer<typeof accessTokenClaimsSchema>;

export interface IssuedToken {
  token: string;
  expiresOn: string;
}

export async function signAccessToken(
  keyRing: TokenKeyRing,
  input: { identityId: string; resourceId: string; geography: string; scopes: TokenScope[]; generation: number; now: Date; expiresInMinutes: number; issuer: string },
): Promise<IssuedToken> {
  const { SignJWT } = await loadJose();
  const { kid, key } = await keyRing.signingKey();
  const iat = Math.floor(input.now.getTime() / 1000);
  const exp = iat + input.expiresInMinutes * 60;
  const token = await new SignJWT({
    skypeid: input.identityId.replace(/^8:/, ''),
    acsScope: [...new Set(input.scopes)].join(','),
    resourceId: input.resourceId,
    geography: input.geography,
    gen: input.generation,
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setSubject(input.identityId)
    .setIssuer(input.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(randomUUID())
    .sign(key);
  return { token, expiresOn: new Date(exp * 1000).toISOString() };
}

const invalidToken = () => new ServiceError('Unauthorized', 'The access token is not valid.', { headers: { 'www-authenticate': 'Bearer' } });

/** The longest lifetime the service issues (`expiresInMinutes` at most 1440): a token claiming more was not issued by it. */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 1440 * 60;
/** How far in the future `iat` may be: clock differences between the instances that issue and verify. */
export const ACCESS_TOKEN_CLOCK_SKEW_SECONDS = 60;

/**
 * Checks signature, issuer, expiry, a plausible issue time (`iat` not later than now plus the clock
 * skew) and lifetime (`exp - iat` positive and at most the longest the service issues), and shape;
 * the revocation check is the identity service's.
 */
export async function verifyAccessTokenSignature(
  keyRing: TokenKeyRing,
  token: string,
  now: Date,
  expected: { issuer: string },
): Promise<AccessTokenClaims & { scopes: TokenScope[] }> {
  const { decodeProtectedHeader, jwtVerify, errors: joseErrors } = await loadJose();
  let kid: string | undefined;
  try {
    kid = decodeProtectedHeader(token).kid;
  } catch {
    throw invalidToken();
  }
  const key = kid ? await keyRing.verificationKey(kid) : undefined;
  if (!key) throw invalidToken();
  let claims: AccessTokenClaims;
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['ES256'], issuer: expected.issuer, currentDate: now, clockTolerance: 0 });
    claims = accessTokenClaimsSchema.parse(payload);
  } catch (error) {
    if (error instanceof joseErrors.JOSEError || error instanceof z.ZodError) throw invalidToken();
    throw error;
  }
  const lifetime = claims.exp - claims.iat;
  if (claims.iat * 1000 > now.getTime() + ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000 || !(lifetime > 0 && lifetime <= MAX_ACCESS_TOKEN_LIFETIME_SECONDS)) {
    throw invalidToken();
  }
  const scopes = claims.acsScope.split(',').filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s));
  return { ...claims, scopes };
}
