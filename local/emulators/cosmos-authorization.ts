import type { IncomingMessage } from 'node:http';
import { audienceOf, bearerTokenProblem, decodeJwtClaims } from './jwt-claims.js';

/**
 * How a request to the embedded Cosmos server was authorized. The Cosmos SDK sends
 * `authorization: type=master&ver=1.0&sig=<HMAC>` with a key and `type=aad&ver=1.0&sig=<JWT>` with a
 * Microsoft Entra token (URL-encoded). cosmosdb-server checks neither; the emulator records which it
 * was sent (and a token's audience and id), so tests can prove how the app reached it, and refuses an
 * Entra token that is not a JWT, has expired or is for another audience than the account
 * (`https://<host>`, or `https://cosmos.azure.com`), like Azurite's `--oauth basic` (no signature check).
 * Keys are not checked.
 */
export interface CosmosAuthorization {
  type: 'master' | 'aad' | 'resource' | 'none' | 'other';
  /** For `aad`: the token's audience and token id (`uti`). */
  token?: { audience?: string; tokenId?: string };
  /** For `aad`: why the token was refused (401), if it was. */
  refused?: string;
  userAgent: string;
}

export function cosmosAuthorizationOf(req: IncomingMessage): CosmosAuthorization {
  const userAgent = req.headers['user-agent'] ?? '';
  const header = req.headers.authorization;
  if (!header) return { type: 'none', userAgent };
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(decodeURIComponent(header));
  } catch {
    return { type: 'other', userAgent };
  }
  const type = params.get('type');
  if (type === 'aad') {
    const claims = decodeJwtClaims(params.get('sig') ?? '');
    const refused = bearerTokenProblem(claims, [`https://${req.headers.host ?? ''}`, 'https://cosmos.azure.com']);
    const token = { audience: audienceOf(claims), tokenId: typeof claims?.uti === 'string' ? claims.uti : undefined };
    return { type: 'aad', token, ...(refused ? { refused } : {}), userAgent };
  }
  return { type: type === 'master' || type === 'resource' ? type : 'other', userAgent };
}

export type CountedAuthorization = CosmosAuthorization & { count: number };

/** The authorizations a server was sent, each distinct one with its count (a long run stays small). */
export class CosmosAuthorizationLog {
  readonly #seen = new Map<string, CountedAuthorization>();

  /** Records the request's authorization; returns why it is refused (an Entra token the emulator does not accept), if it is. */
  record(req: IncomingMessage): string | undefined {
    const authorization = cosmosAuthorizationOf(req);
    const key = JSON.stringify(authorization);
    this.#seen.set(key, { ...authorization, count: (this.#seen.get(key)?.count ?? 0) + 1 });
    return authorization.refused;
  }

  list(): CountedAuthorization[] {
    return [...this.#seen.values()].map((entry) => ({ ...entry, ...(entry.token ? { token: { ...entry.token } } : {}) }));
  }
}
