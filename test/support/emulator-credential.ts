import { randomUUID } from 'node:crypto';
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';

/**
 * A Microsoft Entra credential for the local emulators: it mints unsigned JWTs shaped like Entra
 * access tokens, which Azurite's `--oauth basic`, the embedded Cosmos server and the local Event Grid
 * topic accept (they check audience, issuer prefix and lifetime, never signatures). The audience is
 * the scope without `/.default` (`https://storage.azure.com`, `https://eventgrid.azure.net`, the
 * Cosmos account's endpoint), the issuer Entra's `https://sts.windows.net/<tenant>/`.
 *
 * Every token carries a token id (`uti`) recorded in `issued`, so a test can tell that the tokens an
 * emulator saw came from this credential. `expired` mints tokens whose `exp` is in the past while
 * telling the SDK they are fresh (so it sends them), `issuer` overrides the issuer and `audience`
 * the audience: tokens the emulators must refuse.
 */
export interface EmulatorCredentialOptions {
  expired?: boolean;
  issuer?: string;
  /** Mint for this audience whatever the scope asks (a token for another service). */
  audience?: string;
}

export interface IssuedToken {
  scope: string;
  audience: string;
  tokenId: string;
}

export const TEST_TENANT = '72f988bf-0000-4000-8000-00000000cafe';

export class EmulatorCredential implements TokenCredential {
  readonly issued: IssuedToken[] = [];

  constructor(private readonly options: EmulatorCredentialOptions = {}) {}

  getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    const scope = Array.isArray(scopes) ? scopes[0]! : scopes;
    const audience = this.options.audience ?? scope.replace(/\/\.default$/, '');
    const tokenId = randomUUID();
    const now = Math.floor(Date.now() / 1000);
    const lifetime = { iat: now - 60, nbf: now - 60, exp: this.options.expired ? now - 30 : now + 3600 };
    const claims = {
      aud: audience,
      iss: this.options.issuer ?? `https://sts.windows.net/${TEST_TENANT}/`,
      ...lifetime,
      tid: TEST_TENANT,
      oid: '00000000-0000-4000-8000-00000000a11c',
      appid: '00000000-0000-4000-8000-000000000001',
      uti: tokenId,
      ver: '1.0',
    };
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const token = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}.${Buffer.from('unsigned').toString('base64url')}`;
    this.issued.push({ scope, audience, tokenId });
    return Promise.resolve({ token, tokenType: 'Bearer', expiresOnTimestamp: (now + 3600) * 1000 });
  }

  /** The ids of the tokens minted for an audience. */
  tokenIds(audience: string): Set<string> {
    return new Set(this.issued.filter((t) => t.audience === audience).map((t) => t.tokenId));
  }
}
