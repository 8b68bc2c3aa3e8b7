import { randomUUID } from 'node:crypto';
import { decodeJwt, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { RateLimiter } from '../../shared/http/rate-limiter.js';
import { canonicalGuid, EntraTokenVerifier } from '../../shared/identity/entra-token-verifier.js';
import { parseTeamsTokenExchangeBody, TeamsTokenExchange } from '../../shared/identity/teams-token-exchange.js';
import { TokenKeyRing } from '../../shared/identity/token-key-ring.js';
import type { Resource } from '../../shared/resources/resource.js';
import { ControlStore } from '../../shared/stores/control-store.js';
import { capturedLogger } from '../support/captured-logger.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';
import { startOpenIdIssuer, type OpenIdIssuer } from '../support/openid-issuer.js';

/**
 * The Teams token exchange and the Entra ID token verifier called directly, without a stack: the
 * body's refusals in ACS's order, GUIDs in every form .NET reads, the claims the verifier insists on,
 * an unreachable key set (the 503 and its log line), and the exchanged token's expiry at the 1440
 * minute cap to the second. Tokens are signed by a local OpenID issuer that publishes its key set;
 * the ACS tokens by a key ring on the embedded Cosmos server. `teams-token-sdk` drives the same
 * through the official SDK.
 */
const cosmos = useEmbeddedCosmos();
const AUDIENCE = 'https://auth.msft.communication.azure.com';
const TENANT = randomUUID();
const APP = randomUUID();
const USER = randomUUID();
const NOW = new Date('2026-12-03T10:00:00.000Z');
const NOW_S = NOW.getTime() / 1000;
const resource = { id: randomUUID(), geographyKey: 'europe' } as Resource;

let issuer: OpenIdIssuer;
beforeAll(async () => {
  issuer = await startOpenIdIssuer();
});
afterAll(async () => issuer?.stop());

const v1Claims = (overrides: JWTPayload = {}): JWTPayload => ({
  aud: AUDIENCE,
  iss: issuer.issuerV1.replace('{tenantid}', TENANT),
  iat: NOW_S - 60,
  nbf: NOW_S - 60,
  exp: NOW_S + 3600,
  appid: APP,
  oid: USER,
  tid: TENANT,
  scp: 'Teams.ManageChats',
  ver: '1.0',
  ...overrides,
});

function verifierOf(options: { jwksUrl?: string; clock?: ManualClock | { now(): Date } } = {}) {
  const { logger, lines } = capturedLogger();
  const verifier = new EntraTokenVerifier({
    jwksUrl: options.jwksUrl ?? issuer.jwksUrl,
    issuers: [issuer.issuerV1],
    audiences: [AUDIENCE],
    clock: options.clock ?? new ManualClock(NOW),
    logger,
  });
  return { verifier, lines };
}

function exchangeOf(clock = new ManualClock(NOW)) {
  const keyRing = new TokenKeyRing(new ControlStore(async () => cosmos.client(), `teams-${randomUUID()}`), clock, { rotationDays: 30, maxTokenLifetimeMs: 1440 * 60_000, cacheMs: 60_000 });
  return new TeamsTokenExchange({
    verifier: verifierOf({ clock }).verifier,
    keyRing,
    clock,
    rateLimiter: new RateLimiter(() => clock.now().getTime()),
    limit: 100,
    windowMs: 30_000,
    issuer: 'acs-residency',
  });
}

const INVALID = { code: 'InvalidAccessToken', message: 'Provided access token is not valid.' };

describe('GUIDs as .NET reads them', () => {
  const guid = '0f8fad5b-d9cb-469f-a165-70867728950e';
  const digits = guid.replaceAll('-', '');

  it('reads 32 digits, hyphenated, in braces or in parentheses, any case, surrounding blanks trimmed, as the lower-case hyphenated form', () => {
    for (const form of [digits, guid, `{${guid}}`, `(${guid})`, digits.toUpperCase(), `(${guid.toUpperCase()})`, `  {${guid}} `]) expect(canonicalGuid(form), form).toBe(guid);
  });

  it('refuses anything around a form, a digit too many or too few in any group, and characters that are not hex digits', () => {
    const groups = guid.split('-');
    const refused = [
      ...[digits, guid, `{${guid}}`, `(${guid})`].flatMap((form) => [`x${form}`, `${form}x`]),
      ...groups.flatMap((_, i) => {
        const longer = groups.map((g, j) => (j === i ? `${g}0` : g));
        const shorter = groups.map((g, j) => (j === i ? g.slice(1) : g));
        const notHex = groups.map((g, j) => (j === i ? `g${g.slice(1)}` : g));
        return [longer, shorter, notHex].flatMap((parts) => [parts.join(''), parts.join('-'), `{${parts.join('-')}}`, `(${parts.join('-')})`]);
      }),
      `{${guid})`,
      `(${guid}}`,
      '',
    ];
    for (const value of refused) expect(canonicalGuid(value), value).toBeUndefined();
  });
});

describe('the exchange body', () => {
  const required = (name: 'AppId' | 'UserId') => ({ code: 'ValidationError', message: `${name}: The ${name} field is required.`, target: name });
  const format = (name: 'AppId' | 'UserId') => ({ code: 'ValidationError', message: `Provided ${name} has invalid format.`, target: name === 'AppId' ? 'appId' : 'userId' });

  it('reads a body that is not a JSON object as one without fields: AppId is required', () => {
    for (const body of [null, [], [APP, USER], 'text', 42, undefined]) expect(() => parseTeamsTokenExchangeBody(body), JSON.stringify(body)).toThrow(expect.objectContaining(required('AppId')));
  });

  it('takes missing, null and blank as required, anything else that is not a GUID as invalid format, AppId first', () => {
    for (const missing of [undefined, null, '', '   ']) {
      expect(() => parseTeamsTokenExchangeBody({ token: 't', appId: missing, userId: USER })).toThrow(expect.objectContaining(required('AppId')));
      expect(() => parseTeamsTokenExchangeBody({ token: 't', appId: APP, userId: missing })).toThrow(expect.objectContaining(required('UserId')));
    }
    for (const bad of ['invalid', 42, {}, [APP]]) {
      expect(() => parseTeamsTokenExchangeBody({ token: 't', appId: bad, userId: USER })).toThrow(expect.objectContaining(format('AppId')));
      expect(() => parseTeamsTokenExchangeBody({ token: 't', appId: APP, userId: bad })).toThrow(expect.objectContaining(format('UserId')));
    }
    // A presence problem of either comes before a format problem of the other.
    expect(() => parseTeamsTokenExchangeBody({ appId: 'invalid' })).toThrow(expect.objectContaining(required('UserId')));
    expect(() => parseTeamsTokenExchangeBody({ appId: 'invalid', userId: 'invalid' })).toThrow(expect.objectContaining(format('AppId')));
  });

  it('answers the token (a non-string one as empty) and the GUIDs in their canonical form', () => {
    expect(parseTeamsTokenExchangeBody({ token: 'abc', appId: `{${APP.toUpperCase()}}`, userId: USER.replaceAll('-', '') })).toStrictEqual({ token: 'abc', appId: APP, userId: USER });
    expect(parseTeamsTokenExchangeBody({ token: 42, appId: APP, userId: USER }).token).toBe('');
    // A missing token is an empty one (the verifier's 401), not a refusal of the body's shape.
    expect(parseTeamsTokenExchangeBody({ appId: APP, userId: USER }).token).toBe('');
  });
});

describe('the Entra ID token verifier', () => {
  it('answers the application, the user and tenant as GUIDs, and the expiry', async () => {
    const { verifier } = verifierOf();
    expect(await verifier.verify(await issuer.sign(v1Claims({ oid: `{${USER.toUpperCase()}}` })))).toStrictEqual({ appId: APP, objectId: USER, tenantId: TENANT, expiresAt: NOW_S + 3600 });
    const v2 = { ...v1Claims({ ver: '2.0', azp: APP.toUpperCase() }), appid: undefined };
    expect(await verifier.verify(await issuer.sign(v2))).toMatchObject({ appId: APP.toUpperCase() });
  });

  it('refuses a user id that is not a GUID and a tenant id with anything around it', async () => {
    const { verifier } = verifierOf();
    await expect(verifier.verify(await issuer.sign(v1Claims({ oid: 'not-a-guid' })))).rejects.toMatchObject(INVALID);
    for (const tid of [`x${TENANT}`, `${TENANT}x`]) {
      await expect(verifier.verify(await issuer.sign(v1Claims({ tid, iss: issuer.issuerV1.replace('{tenantid}', tid) })))).rejects.toMatchObject(INVALID);
    }
  });

  it('answers 503 with Retry-After when the key set cannot be fetched, and logs why without the token', async () => {
    const { verifier, lines } = verifierOf({ jwksUrl: `${issuer.origin}/no-such-keys` });
    await expect(verifier.verify(await issuer.sign(v1Claims()))).rejects.toMatchObject({
      code: 'ServiceUnavailable',
      message: 'The signing keys of Microsoft Entra ID could not be fetched; try again later.',
      headers: { 'retry-after': '10' },
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', event: 'teams_token.keys_unavailable', errorName: 'JOSEError', detail: expect.any(String) });
  });

  it('passes on an error that is not about the token', async () => {
    const failure = new Error('clock unavailable');
    const { verifier } = verifierOf({
      clock: {
        now: () => {
          throw failure;
        },
      },
    });
    await expect(verifier.verify(await issuer.sign(v1Claims()))).rejects.toBe(failure);
  });
});

describe('the exchange', () => {
  it('matches the application of the token as a GUID in any form', async () => {
    const exchange = exchangeOf();
    const token = await issuer.sign(v1Claims({ appid: `{${APP.toUpperCase()}}` }));
    await expect(exchange.exchange(resource, { token, appId: APP, userId: USER })).resolves.toMatchObject({ identityId: `8:orgid:${USER}` });
    const other = await issuer.sign(v1Claims({ appid: 'not-a-guid' }));
    await expect(exchange.exchange(resource, { token: other, appId: APP, userId: USER })).rejects.toMatchObject({ code: 'ValidationError', target: 'appId' });
  });

  it('refuses a blank token as invalid', async () => {
    for (const token of ['', '   ', 42]) await expect(exchangeOf().exchange(resource, { token, appId: APP, userId: USER })).rejects.toMatchObject(INVALID);
  });

  it('expires with the Entra ID token up to 1440 minutes from now, and at 1440 minutes beyond that, to the second', async () => {
    const exchange = exchangeOf();
    const issued = async (exp: number) => decodeJwt((await exchange.exchange(resource, { token: await issuer.sign(v1Claims({ exp })), appId: APP, userId: USER })).accessToken.token);
    // 30 s short of 1440 minutes: 1440 whole minutes counted back from the Entra ID token's expiry.
    expect(await issued(NOW_S + 86_400 - 30)).toMatchObject({ exp: NOW_S + 86_400 - 30, iat: NOW_S - 30 });
    expect(await issued(NOW_S + 86_400)).toMatchObject({ exp: NOW_S + 86_400, iat: NOW_S });
    expect(await issued(NOW_S + 86_400 + 1)).toMatchObject({ exp: NOW_S + 86_400, iat: NOW_S });
    expect(await issued(NOW_S + 90)).toMatchObject({ exp: NOW_S + 90, iat: NOW_S - 30 });
  });
});
