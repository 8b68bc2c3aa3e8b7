import * as z from 'zod';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey } from '../geography/geographies.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { Resource } from '../resources/resource.js';
import { signAccessToken, type IssuedToken } from './access-tokens.js';
import { canonicalGuid, invalidAccessToken, type EntraTokenVerifier } from './entra-token-verifier.js';
import type { TokenKeyRing } from './token-key-ring.js';

/**
 * The ACS Teams user token exchange (`POST teamsUser/:exchangeAccessToken`, Identity API
 * 2023-10-01): a Microsoft Entra ID access token of a Teams user, issued to the application `appId`
 * for the user `userId`, is exchanged for an ACS access token of the Teams user identity
 * `8:orgid:{oid}`, expiring with the Entra ID token (at most after 1440 minutes).
 *
 * Checks, in this order, each answering as ACS does: `appId` and `userId` present (400, target
 * `AppId` / `UserId`), then their GUID format (400, target `appId` / `userId`), then the token
 * (401 InvalidAccessToken: empty, malformed, badly signed, expired, wrong issuer or audience), then
 * that the token's application is `appId` (400, target `appId`) and its `oid` is `userId` (400,
 * target `userId`). Nothing is stored, refused or not: Teams users are not identities of the
 * resource, and their tokens carry no generation to revoke.
 */
export interface TeamsTokenExchangeDeps {
  verifier: EntraTokenVerifier;
  keyRing: TokenKeyRing;
  clock: Clock;
  rateLimiter: RateLimiter;
  /** Exchanges per resource per window (ACS: 500 per 30 s). */
  limit: number;
  windowMs: number;
  /** `iss` of the access tokens the service issues. */
  issuer: string;
}

/** ACS's raw id prefix of a Teams user of the public cloud. */
export const TEAMS_USER_PREFIX = '8:orgid:';

/** The longest access token lifetime the service issues, as for communication users. */
const MAX_EXPIRES_IN_MINUTES = 1440;

type Stage = 'presence' | 'format';
interface FieldIssueParams {
  stage: Stage;
  target: string;
}

/**
 * `appId` / `userId`: missing, null or blank is "required" (ACS's model validation, target in
 * Pascal case); anything else that is not a GUID is "invalid format" (target in camel case).
 */
const guidField = (name: 'AppId' | 'UserId') =>
  z.unknown().transform((value, ctx) => {
    if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) {
      ctx.addIssue({ code: 'custom', message: `${name}: The ${name} field is required.`, params: { stage: 'presence', target: name } satisfies FieldIssueParams });
      return z.NEVER;
    }
    const guid = typeof value === 'string' ? canonicalGuid(value) : undefined;
    if (guid === undefined) {
      const target = name === 'AppId' ? 'appId' : 'userId';
      ctx.addIssue({ code: 'custom', message: `Provided ${name} has invalid format.`, params: { stage: 'format', target } satisfies FieldIssueParams });
      return z.NEVER;
    }
    return guid;
  });

/** The request body; a body that is not a JSON object is read as one without fields. */
export const teamsTokenExchangeBodySchema = z.preprocess(
  (body) => (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}),
  z.object({
    /** Checked by the verifier: an empty, missing or non-string token is an invalid token (401). Optional: zod takes a missing key of `z.unknown()` as an issue. */
    token: z.unknown().optional(),
    appId: guidField('AppId'),
    userId: guidField('UserId'),
  }),
);

/** Parses the body; the first presence problem (AppId before UserId), else the first format problem, is the answer. */
export function parseTeamsTokenExchangeBody(body: unknown): { token: string; appId: string; userId: string } {
  const parsed = teamsTokenExchangeBodySchema.safeParse(body);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => ({ message: issue.message, ...((issue as { params?: FieldIssueParams }).params ?? { stage: 'format' as const, target: '' }) }));
    const first = issues.find((i) => i.stage === 'presence') ?? issues[0]!;
    throw new ServiceError('ValidationError', first.message, first.target ? { target: first.target } : {});
  }
  const { token, appId, userId } = parsed.data;
  return { token: typeof token === 'string' ? token : '', appId, userId };
}

export class TeamsTokenExchange {
  constructor(private readonly deps: TeamsTokenExchangeDeps) {}

  /** Exchanges the token; answers the ACS token and the Teams user's raw id. */
  async exchange(resource: Resource, body: unknown): Promise<{ identityId: string; accessToken: IssuedToken }> {
    this.deps.rateLimiter.take(`${resource.id}:identity.exchangeTeamsUserToken`, this.deps.limit, this.deps.windowMs);
    const request = parseTeamsTokenExchangeBody(body);
    if (request.token.trim() === '') throw invalidAccessToken();
    const entra = await this.deps.verifier.verify(request.token);
    if ((canonicalGuid(entra.appId) ?? entra.appId) !== request.appId) {
      throw new ServiceError('ValidationError', 'AAD application is not the expected one.', { target: 'appId' });
    }
    if (entra.objectId !== request.userId) {
      throw new ServiceError('ValidationError', 'Provided AAD token issued for unexpected user.', { target: 'userId' });
    }
    const identityId = `${TEAMS_USER_PREFIX}${entra.objectId}`;
    return { identityId, accessToken: await this.#sign(resource, identityId, entra.expiresAt) };
  }

  /**
   * Signs a token expiring with the Entra ID token, or 1440 minutes from now if that is sooner.
   * signAccessToken counts lifetimes in whole minutes from `iat`, so for an exact `exp` the issue time
   * passed is `exp` minus whole minutes: `iat` is then up to 59 s before the exchange (never after).
   */
  async #sign(resource: Resource, identityId: string, entraExpiresAt: number): Promise<IssuedToken> {
    const now = Math.floor(this.deps.clock.now().getTime() / 1000);
    const remainingMinutes = Math.ceil((entraExpiresAt - now) / 60);
    const capped = remainingMinutes > MAX_EXPIRES_IN_MINUTES;
    const expiresInMinutes = capped ? MAX_EXPIRES_IN_MINUTES : remainingMinutes;
    const issuedAt = capped ? now : entraExpiresAt - expiresInMinutes * 60;
    return signAccessToken(this.deps.keyRing, {
      identityId,
      resourceId: resource.id,
      geography: geographyByKey(resource.geographyKey).name,
      // ACS grants a Teams user what the Entra ID token's delegated permissions and the tenant's Teams
      // policies allow; no ACS scope of this service applies to them (chat takes communication users).
      scopes: [],
      generation: 0,
      now: new Date(issuedAt * 1000),
      expiresInMinutes,
      issuer: this.deps.issuer,
    });
  }
}
