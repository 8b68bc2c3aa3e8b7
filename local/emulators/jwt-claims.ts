/**
 * The claims of a Microsoft Entra access token as the local emulators read them: decoded, never
 * verified (like Azurite's `--oauth basic`, they check audience and lifetime, not signatures). Only
 * for the emulators; the app never reads tokens this way.
 */
export interface JwtClaims {
  aud?: string | string[];
  iss?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  /** Entra's token id claim. */
  uti?: string;
  [claim: string]: unknown;
}

/** The payload of a compact JWT (`header.payload.signature`), or undefined when it is not one. */
export function decodeJwtClaims(token: string): JwtClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((part) => !/^[A-Za-z0-9_-]*$/.test(part))) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as unknown;
    return claims !== null && typeof claims === 'object' && !Array.isArray(claims) ? (claims as JwtClaims) : undefined;
  } catch {
    return undefined;
  }
}

/** Why a token is refused for `audience` (one of them) at `now` (audience, lifetime), or undefined when it is accepted. */
export function bearerTokenProblem(claims: JwtClaims | undefined, audience: string | string[], now = Date.now()): string | undefined {
  if (!claims) return 'The token is not a JWT.';
  const accepted = Array.isArray(audience) ? audience : [audience];
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((aud) => typeof aud === 'string' && accepted.includes(aud.replace(/\/$/, '')))) return 'Invalid token audience.';
  if (typeof claims.nbf !== 'number' || typeof claims.exp !== 'number') return 'The token has no lifetime.';
  if (now < claims.nbf * 1000) return 'The token is not valid yet.';
  if (now > claims.exp * 1000) return 'The token is expired.';
  return undefined;
}

/** The first audience of a token, for records of what an emulator was sent. */
export function audienceOf(claims: JwtClaims | undefined): string | undefined {
  const aud = Array.isArray(claims?.aud) ? claims.aud[0] : claims?.aud;
  return typeof aud === 'string' ? aud : undefined;
}
