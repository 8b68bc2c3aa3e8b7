import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

/**
 * A local OpenID issuer standing in for Microsoft Entra ID: an HTTP server on 127.0.0.1 (port 0)
 * that publishes its discovery document and the key set of an RS256 key it generated, the way
 * Entra ID's common endpoint does (`{tenantid}` issuers, keys without `alg`), and signs tokens with
 * that key. Every request it serves is recorded, so tests can count key set fetches.
 */
export interface OpenIdIssuer {
  origin: string;
  /** The issuer templates it stands for (v2.0 and v1.0 style), `{tenantid}` for the tenant. */
  issuerV2: string;
  issuerV1: string;
  jwksUrl: string;
  discoveryUrl: string;
  /** The kid of the published key. */
  kid: string;
  /** Paths of the requests served, in order. */
  requests: string[];
  /** Signs claims with the published key (or `options.key`, under `options.kid`), header `typ: JWT`, alg RS256. */
  sign(claims: JWTPayload, options?: { key?: CryptoKey; kid?: string }): Promise<string>;
  /** A fresh RS256 private key that this issuer does not publish. */
  unpublishedKey(): Promise<CryptoKey>;
  stop(): Promise<void>;
}

export async function startOpenIdIssuer(): Promise<OpenIdIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const kid = randomUUID();
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  const requests: string[] = [];
  let origin = '';

  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://issuer').pathname;
    requests.push(path);
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (path === '/.well-known/openid-configuration') {
      return send(200, {
        issuer: `${origin}/{tenantid}/v2.0`,
        jwks_uri: `${origin}/discovery/v2.0/keys`,
        id_token_signing_alg_values_supported: ['RS256'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        subject_types_supported: ['pairwise'],
        tenant_region_scope: null,
      });
    }
    if (path === '/discovery/v2.0/keys') return send(200, { keys: [{ ...publicJwk, issuer: `${origin}/{tenantid}/v2.0` }] });
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    issuerV2: `${origin}/{tenantid}/v2.0`,
    issuerV1: `${origin}/sts/{tenantid}/`,
    jwksUrl: `${origin}/discovery/v2.0/keys`,
    discoveryUrl: `${origin}/.well-known/openid-configuration`,
    kid,
    requests,
    sign: (claims, options = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? kid }).sign(options.key ?? privateKey),
    unpublishedKey: async () => (await generateKeyPair('RS256')).privateKey,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
