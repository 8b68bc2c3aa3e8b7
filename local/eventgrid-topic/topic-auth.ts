import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerTokenProblem, decodeJwtClaims } from '../emulators/jwt-claims.js';

/** The audience of Microsoft Entra tokens for Event Grid (the client asks for `https://eventgrid.azure.net/.default`). */
export const EVENTGRID_AUDIENCE = 'https://eventgrid.azure.net';

/** How an accepted publish request was authorized. */
export type PublishAuthorization = { via: 'key' } | { via: 'bearer'; audience: string; tokenId?: string };

export type AuthorizationResult = { ok: true; authorization: PublishAuthorization } | { ok: false; message: string };

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * A topic's publish authorization, as Event Grid accepts it: the topic key in `aeg-sas-key`
 * (compared in constant time; `aeg-sas-token` is not accepted), or a Microsoft Entra token in
 * `Authorization: Bearer` (the EventGrid Data Sender role in Azure). Like Azurite's `--oauth basic`,
 * a token's audience and lifetime are checked, not its signature.
 */
export class TopicAuthorizer {
  readonly #keyDigest: Buffer;

  constructor(key: string) {
    this.#keyDigest = digest(key);
  }

  authorize(headers: IncomingHttpHeaders, now = Date.now()): AuthorizationResult {
    const bearer = /^Bearer\s+(\S+)$/i.exec(headers.authorization ?? '');
    if (bearer) {
      const claims = decodeJwtClaims(bearer[1]!);
      const problem = bearerTokenProblem(claims, EVENTGRID_AUDIENCE, now);
      if (problem) return { ok: false, message: `Invalid bearer token: ${problem}` };
      return { ok: true, authorization: { via: 'bearer', audience: EVENTGRID_AUDIENCE, ...(typeof claims?.uti === 'string' ? { tokenId: claims.uti } : {}) } };
    }
    const key = headers['aeg-sas-key'];
    // Equal-length digests make timingSafeEqual usable and hide the key length.
    if (typeof key === 'string' && key.length > 0 && timingSafeEqual(digest(key), this.#keyDigest)) return { ok: true, authorization: { via: 'key' } };
    return { ok: false, message: "Missing or invalid 'aeg-sas-key' header or bearer token." };
  }
}
