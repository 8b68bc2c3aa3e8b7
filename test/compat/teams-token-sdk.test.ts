import { randomUUID } from 'node:crypto';
import { CommunicationIdentityClient, type GetTokenForTeamsUserOptions } from '@azure/communication-identity';
import { decodeJwt, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../shared/config/settings.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { EntraTokenVerifier } from '../../shared/identity/entra-token-verifier.js';
import { services } from '../../shared/services.js';
import { startOpenIdIssuer, type OpenIdIssuer } from '../support/openid-issuer.js';
import { httpConnectionString } from '../support/sdk-options.js';
import { startTestStack, type ResourceView, type TestStack, type TestResponse } from '../support/test-stack.js';

/**
 * The Teams user token exchange through the official `getTokenForTeamsUser`, against a local OpenID
 * issuer that publishes its own key set: the service verifies every token for real (signature
 * against the fetched keys, issuer, audience, expiry). Tests run in order: the first one is the
 * first exchange, so the key set fetches counted here are all the service made.
 */
const AUDIENCE = 'https://auth.msft.communication.azure.com';
const TENANT = randomUUID();
const APP = randomUUID();
const USER = randomUUID();
const OTHER_GUID = randomUUID();
const EXCHANGE_LIMIT = 100;
const KEYS_PATH = '/discovery/v2.0/keys';

let issuer: OpenIdIssuer;
let stack: TestStack;
let resource: ResourceView;
let limited: ResourceView;
let client: CommunicationIdentityClient;

beforeAll(async () => {
  issuer = await startOpenIdIssuer();
  // Configure the service the way an operator would: from the issuer's discovery document.
  const discovery = (await (await fetch(issuer.discoveryUrl)).json()) as { issuer: string; jwks_uri: string };
  stack = await startTestStack({
    env: {
      TEAMS_TOKEN_JWKS_URL: discovery.jwks_uri,
      TEAMS_TOKEN_ISSUERS: `${discovery.issuer},${issuer.issuerV1}`,
      // TEAMS_TOKEN_AUDIENCE: the default, ACS's audience.
      RATE_LIMIT_TEAMS_TOKEN_EXCHANGE: String(EXCHANGE_LIMIT),
    },
  });
  resource = await stack.createResource('teams-token', 'Europe');
  limited = await stack.createResource('teams-token-limit', 'Japan');
  client = new CommunicationIdentityClient(httpConnectionString(stack, resource.connectionString), { allowInsecureConnection: true });
});
afterAll(async () => {
  await stack?.stop();
  await issuer?.stop();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const keySetFetches = () => issuer.requests.filter((path) => path === KEYS_PATH).length;

/** The claims of an Entra ID v1.0 access token for ACS (`appid`, `sts.windows.net`-style issuer). */
const v1Claims = (overrides: JWTPayload = {}): JWTPayload => ({
  aud: AUDIENCE,
  iss: issuer.issuerV1.replace('{tenantid}', TENANT),
  iat: nowSeconds() - 60,
  nbf: nowSeconds() - 60,
  exp: nowSeconds() + 3600,
  appid: APP,
  appidacr: '0',
  oid: USER,
  tid: TENANT,
  scp: 'Teams.ManageCalls Teams.ManageChats',
  sub: randomUUID(),
  ver: '1.0',
  ...overrides,
});

/** The claims of a v2.0 token (`azp`, `login.microsoftonline.com/{tenantid}/v2.0`-style issuer). */
const v2Claims = (overrides: JWTPayload = {}): JWTPayload => {
  const { appid: _appid, appidacr: _appidacr, ...rest } = v1Claims({ iss: issuer.issuerV2.replace('{tenantid}', TENANT), azp: APP, azpacr: '0', ver: '2.0', ...overrides });
  return rest;
};

const exchangePath = '/teamsUser/:exchangeAccessToken?api-version=2023-10-01';

/** The same exchange on the wire, signed with the resource key as the SDK signs it. */
const rawExchange = (body: unknown, view: ResourceView = resource): Promise<TestResponse> =>
  stack.signed({ method: 'POST', endpoint: view.endpoint, path: exchangePath, key: view.primaryKey, body: JSON.stringify(body) });

/** Refused through the SDK (statusCode, code and message, as the SDK surfaces them) and on the wire (the exact body). */
async function expectRefused(options: GetTokenForTeamsUserOptions, status: number, error: { code: string; message: string; target?: string }) {
  await expect(client.getTokenForTeamsUser(options)).rejects.toMatchObject({ name: 'RestError', statusCode: status, code: error.code, message: error.message });
  const raw = await rawExchange({ token: options.teamsUserAadToken, appId: options.clientId, userId: options.userObjectId });
  expect(raw.status).toBe(status);
  expect(raw.body).toEqual({ error });
}

const INVALID_TOKEN = { code: 'InvalidAccessToken', message: 'Provided access token is not valid.' };

describe('Teams user token exchange (official @azure/communication-identity getTokenForTeamsUser)', () => {
  it('fetches nothing until the first exchange; a token under a kid the issuer does not publish is 401 after exactly one key set fetch', async () => {
    expect(keySetFetches()).toBe(0);
    const foreignKey = await issuer.unpublishedKey();
    const token = await issuer.sign(v1Claims(), { key: foreignKey, kid: randomUUID() });
    await expectRefused({ teamsUserAadToken: token, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
    expect(keySetFetches()).toBe(1);
  });

  it('exchanges a valid v1.0 token for an ACS token of 8:orgid:{oid} that expires with it', async () => {
    const claims = v1Claims();
    const before = nowSeconds();
    const { token, expiresOn } = await client.getTokenForTeamsUser({ teamsUserAadToken: await issuer.sign(claims), clientId: APP, userObjectId: USER });
    const issued = decodeJwt(token);
    expect(issued.sub).toBe(`8:orgid:${USER}`);
    expect(issued).toMatchObject({ skypeid: `orgid:${USER}`, acsScope: '', resourceId: resource.id, geography: 'Europe', gen: 0, iss: 'acs-residency' });
    expect(issued.exp).toBe(claims.exp);
    expect(expiresOn.getTime()).toBe(claims.exp! * 1000);
    // iat: whole minutes before exp, at most 59 s before the exchange and never after it.
    expect((issued.exp! - issued.iat!) % 60).toBe(0);
    expect(issued.iat!).toBeGreaterThan(before - 60);
    expect(issued.iat!).toBeLessThanOrEqual(nowSeconds());

    const raw = await rawExchange({ token: await issuer.sign(claims), appId: APP, userId: USER });
    expect(raw.status).toBe(200);
    expect(Object.keys(raw.body).sort()).toEqual(['expiresOn', 'token']);
    expect(raw.body.expiresOn).toBe(new Date(claims.exp! * 1000).toISOString());
    expect(decodeJwt(raw.body.token).sub).toBe(`8:orgid:${USER}`);
  });

  it('exchanges a valid v2.0 token (application in azp); appId and userId match as GUIDs, whatever their case or braces', async () => {
    const claims = v2Claims({ exp: nowSeconds() + 600 });
    const { token, expiresOn } = await client.getTokenForTeamsUser({
      teamsUserAadToken: await issuer.sign(claims),
      clientId: `{${APP.toUpperCase()}}`,
      userObjectId: USER.replaceAll('-', '').toUpperCase(),
    });
    expect(decodeJwt(token).sub).toBe(`8:orgid:${USER}`);
    expect(expiresOn.getTime()).toBe(claims.exp! * 1000);
  });

  it('caps the expiry at 1440 minutes from the exchange', async () => {
    const before = nowSeconds();
    const { token, expiresOn } = await client.getTokenForTeamsUser({
      teamsUserAadToken: await issuer.sign(v1Claims({ exp: nowSeconds() + 3 * 86_400 })),
      clientId: APP,
      userObjectId: USER,
    });
    const after = nowSeconds();
    const issued = decodeJwt(token);
    expect(issued.exp! - issued.iat!).toBe(1440 * 60);
    expect(issued.iat!).toBeGreaterThanOrEqual(before);
    expect(issued.iat!).toBeLessThanOrEqual(after);
    expect(expiresOn.getTime()).toBe(issued.exp! * 1000);
  });

  it('the exchanged token is a Teams user token: no API of this service accepts it (chat takes communication users)', async () => {
    const { token } = await client.getTokenForTeamsUser({ teamsUserAadToken: await issuer.sign(v1Claims()), clientId: APP, userObjectId: USER });
    const response = await fetch(`${stack.httpUrl}/chat/threads?resource=${resource.name}&api-version=2024-03-07`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
  });

  it('an expired token is 401', async () => {
    const token = await issuer.sign(v1Claims({ iat: nowSeconds() - 7200, nbf: nowSeconds() - 7200, exp: nowSeconds() - 1 }));
    await expectRefused({ teamsUserAadToken: token, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
  });

  it('a token for another audience is 401', async () => {
    await expectRefused({ teamsUserAadToken: await issuer.sign(v1Claims({ aud: 'https://graph.microsoft.com' })), clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
  });

  it('a token of another issuer, or of an issuer for another tenant than its tid, is 401', async () => {
    const elsewhere = await issuer.sign(v1Claims({ iss: `https://sts.example.com/${TENANT}/` }));
    await expectRefused({ teamsUserAadToken: elsewhere, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
    const otherTenant = await issuer.sign(v1Claims({ iss: issuer.issuerV1.replace('{tenantid}', randomUUID()) }));
    await expectRefused({ teamsUserAadToken: otherTenant, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
  });

  it('a token signed by a key the issuer does not publish, under the published kid, is 401', async () => {
    const forged = await issuer.sign(v1Claims(), { key: await issuer.unpublishedKey(), kid: issuer.kid });
    await expectRefused({ teamsUserAadToken: forged, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
  });

  it('an application token (no delegated scp) and a token without the application claim of its version are 401', async () => {
    const { scp: _scp, ...appOnly } = v1Claims();
    await expectRefused({ teamsUserAadToken: await issuer.sign(appOnly), clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
    const v2WithoutAzp = await issuer.sign(v1Claims({ ver: '2.0' }));
    await expectRefused({ teamsUserAadToken: v2WithoutAzp, clientId: APP, userObjectId: USER }, 401, INVALID_TOKEN);
  });

  it('an empty or malformed token is 401 (as in the SDK tests: a well-formed but wrong userObjectId does not matter)', async () => {
    for (const teamsUserAadToken of ['', 'invalid', 'a.b.c']) {
      await expectRefused({ teamsUserAadToken, clientId: APP, userObjectId: APP }, 401, INVALID_TOKEN);
    }
    // On the wire, a missing or non-string token is an invalid one too (not a 400 for the body's shape).
    for (const body of [{ appId: APP, userId: USER }, { token: null, appId: APP, userId: USER }, { token: 42, appId: APP, userId: USER }]) {
      expect((await rawExchange(body)).body).toEqual({ error: INVALID_TOKEN });
    }
  });

  it("a token of another application is 400 'AAD application is not the expected one.' (target appId)", async () => {
    const token = await issuer.sign(v1Claims());
    await expectRefused({ teamsUserAadToken: token, clientId: OTHER_GUID, userObjectId: USER }, 400, {
      code: 'ValidationError',
      message: 'AAD application is not the expected one.',
      target: 'appId',
    });
  });

  it("a token of another user is 400 'Provided AAD token issued for unexpected user.' (target userId)", async () => {
    const token = await issuer.sign(v2Claims());
    await expectRefused({ teamsUserAadToken: token, clientId: APP, userObjectId: OTHER_GUID }, 400, {
      code: 'ValidationError',
      message: 'Provided AAD token issued for unexpected user.',
      target: 'userId',
    });
  });

  it('an empty or malformed appId or userId is 400 with ACS messages and targets, checked before the token', async () => {
    const token = await issuer.sign(v1Claims());
    const appRequired = { code: 'ValidationError', message: 'AppId: The AppId field is required.', target: 'AppId' };
    const appFormat = { code: 'ValidationError', message: 'Provided AppId has invalid format.', target: 'appId' };
    const userRequired = { code: 'ValidationError', message: 'UserId: The UserId field is required.', target: 'UserId' };
    const userFormat = { code: 'ValidationError', message: 'Provided UserId has invalid format.', target: 'userId' };
    await expectRefused({ teamsUserAadToken: token, clientId: '', userObjectId: USER }, 400, appRequired);
    await expectRefused({ teamsUserAadToken: token, clientId: 'invalid', userObjectId: USER }, 400, appFormat);
    await expectRefused({ teamsUserAadToken: token, clientId: APP, userObjectId: '' }, 400, userRequired);
    await expectRefused({ teamsUserAadToken: token, clientId: APP, userObjectId: 'invalid' }, 400, userFormat);
    // Order: presence (AppId, then UserId), then format (appId, then userId), then the token.
    await expectRefused({ teamsUserAadToken: '', clientId: '', userObjectId: '' }, 400, appRequired);
    await expectRefused({ teamsUserAadToken: token, clientId: 'invalid', userObjectId: ' ' }, 400, userRequired);
    await expectRefused({ teamsUserAadToken: token, clientId: 'invalid', userObjectId: 'invalid' }, 400, appFormat);
    await expectRefused({ teamsUserAadToken: 'invalid', clientId: APP, userObjectId: 'invalid' }, 400, userFormat);
    // Fields the SDK always sends, missing on the wire: the same "required" answers.
    expect((await rawExchange({ token })).body).toEqual({ error: appRequired });
    expect((await rawExchange({ token, appId: APP })).body).toEqual({ error: userRequired });
    expect((await rawExchange({ token, appId: 42, userId: USER })).body).toEqual({ error: appFormat });
  });

  it('a refused exchange writes nothing, and a successful one writes no identity (only their operation log records)', async () => {
    const before = await storedItems();
    const valid = await issuer.sign(v1Claims());
    const refusals: [GetTokenForTeamsUserOptions, number][] = [
      [{ teamsUserAadToken: '', clientId: APP, userObjectId: USER }, 401],
      [{ teamsUserAadToken: await issuer.sign(v1Claims({ exp: nowSeconds() - 5 })), clientId: APP, userObjectId: USER }, 401],
      [{ teamsUserAadToken: await issuer.sign(v1Claims(), { key: await issuer.unpublishedKey(), kid: issuer.kid }), clientId: APP, userObjectId: USER }, 401],
      [{ teamsUserAadToken: valid, clientId: OTHER_GUID, userObjectId: USER }, 400],
      [{ teamsUserAadToken: valid, clientId: APP, userObjectId: OTHER_GUID }, 400],
      [{ teamsUserAadToken: valid, clientId: '', userObjectId: USER }, 400],
    ];
    for (const [options, status] of refusals) await expect(client.getTokenForTeamsUser(options)).rejects.toMatchObject({ statusCode: status });
    expect(await storedItems()).toEqual(before);
    await client.getTokenForTeamsUser({ teamsUserAadToken: valid, clientId: APP, userObjectId: USER });
    expect(await storedItems()).toEqual(before);
    expect(Object.keys(before).filter((key) => key.includes('orgid'))).toEqual([]);
  });

  it('answers 400 without api-version, and 429 with Retry-After past the per-resource limit (counted before any check)', async () => {
    const missingVersion = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/teamsUser/:exchangeAccessToken', key: resource.primaryKey, body: '{}' });
    expect(missingVersion.status).toBe(400);
    expect(missingVersion.body.error).toMatchObject({ code: 'InvalidApiVersion', target: 'api-version' });

    const statuses: number[] = [];
    for (let i = 0; i < EXCHANGE_LIMIT; i += 1) statuses.push((await rawExchange({ token: '', appId: '', userId: '' }, limited)).status);
    expect(statuses).toEqual(Array.from({ length: EXCHANGE_LIMIT }, () => 400));
    const refused = await rawExchange({ token: await issuer.sign(v1Claims()), appId: APP, userId: USER }, limited);
    expect(refused.status).toBe(429);
    const retryAfter = refused.headers.get('retry-after');
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(30);
    expect(refused.body).toEqual({ error: { code: 'TooManyRequests', message: `Too many requests: at most ${EXCHANGE_LIMIT} per 30 s. Retry after ${retryAfter} s.` } });
    // Another resource's limit is its own.
    await expect(client.getTokenForTeamsUser({ teamsUserAadToken: await issuer.sign(v1Claims()), clientId: APP, userObjectId: USER })).resolves.toMatchObject({ token: expect.any(String) });
  });

  it('fetched the key set exactly once for all the exchanges above, and never the discovery document', () => {
    expect(keySetFetches()).toBe(1);
    // The one discovery request is the test's own, configuring the stack.
    expect(issuer.requests.filter((path) => path === '/.well-known/openid-configuration')).toHaveLength(1);
  });
});

describe('Entra ID token verifier without its key set', () => {
  it('answers 503 (not 401) when the key set cannot be fetched, and fetches nothing for a malformed token', async () => {
    const before = issuer.requests.length;
    const verifier = new EntraTokenVerifier({ jwksUrl: `${issuer.origin}/no-such-keys`, issuers: [issuer.issuerV1], audiences: [AUDIENCE], clock: { now: () => new Date() } });
    await expect(verifier.verify('invalid')).rejects.toMatchObject({ code: 'InvalidAccessToken', status: 401 });
    expect(issuer.requests.length).toBe(before);
    await expect(verifier.verify(await issuer.sign(v1Claims()))).rejects.toMatchObject({ code: 'ServiceUnavailable', status: 503 });
    expect(issuer.requests.slice(before)).toEqual(['/no-such-keys']);
  });
});

describe('Teams token exchange settings', () => {
  const base = { MANAGEMENT_KEY: 'm'.repeat(32), TELEMETRY_HASH_KEY: 't'.repeat(32), COSMOS_ENDPOINT: 'https://cosmos.example', COSMOS_KEY: 'k', STORAGE_CONNECTION_STRING: 's' };
  const problems = (env: Record<string, string>) => {
    try {
      parseSettings({ ...base, ...env });
      return [];
    } catch (error) {
      return (error as { problems: string[] }).problems;
    }
  };

  it('defaults to Microsoft Entra ID and ACS', () => {
    const settings = parseSettings(base);
    expect(settings.teamsTokenJwksUrl).toBe('https://login.microsoftonline.com/common/discovery/v2.0/keys');
    expect(settings.teamsTokenIssuers).toEqual(['https://login.microsoftonline.com/{tenantid}/v2.0', 'https://sts.windows.net/{tenantid}/']);
    expect(settings.teamsTokenAudiences).toEqual([AUDIENCE]);
    expect(settings.rateLimitTeamsTokenExchange).toBe(500);
  });

  it('reads lists and takes http only to a loopback address', () => {
    const settings = parseSettings({ ...base, TEAMS_TOKEN_JWKS_URL: 'http://[::1]:8080/keys', TEAMS_TOKEN_ISSUERS: ' https://a.example/{tenantid}/ , ', TEAMS_TOKEN_AUDIENCE: 'a,b' });
    expect(settings.teamsTokenJwksUrl).toBe('http://[::1]:8080/keys');
    expect(settings.teamsTokenIssuers).toEqual(['https://a.example/{tenantid}/']);
    expect(settings.teamsTokenAudiences).toEqual(['a', 'b']);
    expect(parseSettings({ ...base, TEAMS_TOKEN_JWKS_URL: 'http://127.0.0.1:9/keys' }).teamsTokenJwksUrl).toBe('http://127.0.0.1:9/keys');
  });

  it('reports each bad value by setting name', () => {
    expect(problems({ TEAMS_TOKEN_JWKS_URL: 'http://keys.example/keys' })).toEqual(['teamsTokenJwksUrl: TEAMS_TOKEN_JWKS_URL must be an https URL (http only to a loopback address)']);
    expect(problems({ TEAMS_TOKEN_JWKS_URL: 'keys' })).toEqual(['teamsTokenJwksUrl: TEAMS_TOKEN_JWKS_URL must be a URL']);
    expect(problems({ TEAMS_TOKEN_ISSUERS: ' , ' })).toEqual(['teamsTokenIssuers: TEAMS_TOKEN_ISSUERS must list at least one value']);
    expect(problems({ TEAMS_TOKEN_ISSUERS: 'https://a.example/{tenantid}/,sts' })).toEqual([
      "teamsTokenIssuers.1: TEAMS_TOKEN_ISSUERS entry 'sts' is not a URL (write {tenantid} where the tenant id goes)",
    ]);
    expect(problems({ RATE_LIMIT_TEAMS_TOKEN_EXCHANGE: '0' })).toEqual(['rateLimitTeamsTokenExchange: RATE_LIMIT_TEAMS_TOKEN_EXCHANGE must be a positive whole number']);
  });
});

/** Every stored item (id and etag) of the resource's geography but its operation logs, and the token signing keys. */
async function storedItems(): Promise<Record<string, string>> {
  const items: Record<string, string> = {};
  const geo = services().stores.forGeography(geographyByKey('europe'));
  for (const name of geo.allContainerNames()) {
    if (name === 'operationLogs') continue;
    try {
      const { resources } = await (await geo.existingContainer(name)).items.readAll<{ id: string; _etag: string }>().fetchAll();
      for (const item of resources) items[`${name}/${item.id}`] = item._etag;
    } catch (error) {
      if ((error as { code?: number }).code !== 404) throw error;
    }
  }
  const { resources: keys } = await (await services().control.container('signingKeys')).items.readAll<{ id: string; _etag: string }>().fetchAll();
  for (const key of keys) items[`signingKeys/${key.id}`] = key._etag;
  return items;
}
