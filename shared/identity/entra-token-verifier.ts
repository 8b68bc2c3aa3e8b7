import type { JWTVerifyGetKey } from 'jose';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { Logger } from '../telemetry/logger.js';
import { loadJose } from './jose.js';

/**
 * Verifies Microsoft Entra ID access tokens of Teams users, as the ACS Teams token exchange does:
 * the RS256 signature against the key set Entra ID publishes (fetched once, cached and refreshed by
 * jose's remote key set), one of the accepted issuers for the token's own tenant, the audience, the
 * expiry, and the claims the exchange needs. Nothing is fetched until the first token is verified.
 */
export interface EntraTokenVerifierOptions {
  /** The key set (JWKS) of the tenants' signing keys, e.g. Entra ID's common `discovery/v2.0/keys`. */
  jwksUrl: string;
  /** Accepted issuers; `{tenantid}` stands for the token's `tid` claim. */
  issuers: string[];
  /** Accepted audiences (`aud`). */
  audiences: string[];
  clock: Clock;
  /** Told when the key set cannot be fetched (the caller gets a 503). */
  logger?: Logger;
}

/** What the exchange uses of a verified token. */
export interface EntraUserToken {
  /** The application the token was issued to: `appid` (v1.0 tokens) or `azp` (v2.0 tokens). */
  appId: string;
  /** The user's object id (`oid`), lower-case. */
  objectId: string;
  tenantId: string;
  /** `exp`, in seconds since the epoch. */
  expiresAt: number;
}

/** A GUID in the forms .NET's Guid.TryParse reads (32 digits, with hyphens, braces or parentheses), case-insensitive. */
const GUID_FORMS = [
  /^([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/i,
  /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i,
  /^\{([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}$/i,
  /^\(([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\)$/i,
];

/** The GUID in its canonical form (lower-case, hyphenated), or undefined if the value is not one. */
export function canonicalGuid(value: string): string | undefined {
  const trimmed = value.trim();
  for (const form of GUID_FORMS) {
    const match = form.exec(trimmed);
    if (match) return match.slice(1).join('-').toLowerCase();
  }
  return undefined;
}

const guidClaim = z.string().transform((value, ctx) => {
  const guid = canonicalGuid(value);
  if (guid === undefined) {
    ctx.addIssue({ code: 'custom', message: 'not a GUID' });
    return z.NEVER;
  }
  return guid;
});

/** The claims of an Entra ID user access token the exchange relies on (signature, `aud`, `exp` and `nbf` are jose's). */
const entraClaimsSchema = z.object({
  iss: z.string(),
  tid: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i),
  oid: guidClaim,
  exp: z.number().int(),
  ver: z.enum(['1.0', '2.0']),
  appid: z.string().optional(),
  azp: z.string().optional(),
  /** Delegated permissions: a user's token has them; an application's own token (client credentials) has not. */
  scp: z.string().min(1),
});

export const invalidAccessToken = () => new ServiceError('InvalidAccessToken', 'Provided access token is not valid.');

const keysUnavailable = () =>
  new ServiceError('ServiceUnavailable', 'The signing keys of Microsoft Entra ID could not be fetched; try again later.', { headers: { 'retry-after': '10' } });

/** A failure to obtain the key set (network, timeout, not 200, not a key set): not the caller's fault. */
class KeySetUnavailable extends Error {
  constructor(cause: unknown) {
    super('The key set could not be fetched', { cause });
    this.name = 'KeySetUnavailable';
  }
}

export class EntraTokenVerifier {
  #keySet?: JWTVerifyGetKey;

  constructor(private readonly options: EntraTokenVerifierOptions) {}

  /** Throws 401 InvalidAccessToken for any token that does not verify, 503 if the key set cannot be fetched. */
  async verify(token: string): Promise<EntraUserToken> {
    const jose = await loadJose();
    let payload: unknown;
    try {
      ({ payload } = await jose.jwtVerify(token, this.#keys(jose), {
        algorithms: ['RS256'],
        audience: this.options.audiences,
        currentDate: this.options.clock.now(),
        clockTolerance: 0,
        requiredClaims: ['exp'],
      }));
    } catch (error) {
      if (error instanceof KeySetUnavailable) {
        const cause = error.cause;
        this.options.logger?.warn('teams_token.keys_unavailable', {
          errorName: cause instanceof Error ? cause.name : typeof cause,
          detail: cause instanceof Error ? cause.message : undefined,
        });
        throw keysUnavailable();
      }
      if (error instanceof jose.errors.JOSEError) throw invalidAccessToken();
      throw error;
    }
    const parsed = entraClaimsSchema.safeParse(payload);
    if (!parsed.success) throw invalidAccessToken();
    const claims = parsed.data;
    if (!this.options.issuers.some((template) => template.replaceAll('{tenantid}', claims.tid) === claims.iss)) throw invalidAccessToken();
    const appId = claims.ver === '1.0' ? claims.appid : claims.azp;
    if (appId === undefined) throw invalidAccessToken();
    return { appId, objectId: claims.oid, tenantId: claims.tid, expiresAt: claims.exp };
  }

  /** The remote key set, created on first use (so loading the app fetches and allocates nothing). */
  #keys(jose: typeof import('jose')): JWTVerifyGetKey {
    if (!this.#keySet) {
      const joseErrors = jose.errors;
      const remote = jose.createRemoteJWKSet(new URL(this.options.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 10 * 60_000 });
      this.#keySet = async (header, token) => {
        try {
          return await remote(header, token);
        } catch (error) {
          // No key for the token's kid (after one refresh at most every 30 s): the token is not valid.
          if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
          throw new KeySetUnavailable(error);
        }
      };
    }
    return this.#keySet;
  }
}
