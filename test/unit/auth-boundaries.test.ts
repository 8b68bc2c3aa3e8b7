import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { contentHash, HMAC_MAX_CLOCK_SKEW_MS, sign, signRequestHeaders, verifyContentDigest, verifyHmacRequest } from '../../shared/auth/hmac-auth.js';
import { requireManagementKey } from '../../shared/auth/management-auth.js';
import { ManualClock } from '../../shared/clock.js';
import { ServiceError } from '../../shared/errors/service-error.js';

/**
 * The exact edges of resource-key and management-key authentication, written to kill the mutants
 * that survived the integration tests (see README, Mutation testing): the clock-skew boundary, the
 * signed-header list, malformed signatures and hashes (a 401, never an exception), the header
 * shapes accepted, and the 401's message and WWW-Authenticate challenge.
 */

const key = randomBytes(32).toString('base64');
const url = 'https://acs.example:7443/identities?api-version=2023-10-01&resource=contoso';
const at = new Date('2026-12-02T10:00:00.000Z');

function request(headers: Record<string, string>, method = 'POST') {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method, url, headers: { get: (name: string) => lower[name.toLowerCase()] ?? null } };
}

const signed = (overrides: Record<string, string | undefined> = {}, date = at, body = '{}') => {
  const headers: Record<string, string> = { ...signRequestHeaders({ method: 'POST', url, body, key, date }), host: 'acs.example:7443' };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  return headers;
};

function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw new Error(`not a ServiceError: ${String(error)}`, { cause: error });
  }
  throw new Error('accepted');
}

const hmacRefusal = { code: 'Unauthorized', message: 'The request is not authorized: the HMAC signature could not be verified.', headers: { 'www-authenticate': 'HMAC-SHA256' } };

describe('resource-key (HMAC) authentication', () => {
  const verify = (headers: Record<string, string>, now: Date, ...body: [Buffer | undefined] | []) =>
    verifyHmacRequest(request(headers), [key], new ManualClock(now), body.length === 0 ? Buffer.from('{}') : body[0]);

  it('accepts a date exactly 15 minutes off either way, and refuses 1 ms more', () => {
    expect(verify(signed(), new Date(at.getTime() + HMAC_MAX_CLOCK_SKEW_MS))).toBe(contentHash('{}'));
    expect(verify(signed(), new Date(at.getTime() - HMAC_MAX_CLOCK_SKEW_MS))).toBe(contentHash('{}'));
    expect(refusal(() => verify(signed(), new Date(at.getTime() + HMAC_MAX_CLOCK_SKEW_MS + 1)))).toMatchObject(hmacRefusal);
    expect(refusal(() => verify(signed(), new Date(at.getTime() - HMAC_MAX_CLOCK_SKEW_MS - 1)))).toMatchObject(hmacRefusal);
  });

  it('takes the Date header when x-ms-date is absent', () => {
    const headers = signed({ 'x-ms-date': undefined, date: at.toUTCString() });
    expect(verify(headers, at)).toBe(contentHash('{}'));
  });

  it('refuses a valid signature over other signed headers than x-ms-date;host;x-ms-content-sha256', () => {
    const original = signed().authorization!;
    const reordered = original.replace('SignedHeaders=x-ms-date;host;x-ms-content-sha256', 'SignedHeaders=host;x-ms-date;x-ms-content-sha256');
    expect(reordered).not.toBe(original);
    expect(refusal(() => verify(signed({ authorization: reordered }), at))).toMatchObject(hmacRefusal);
  });

  it('refuses a scheme with anything before it, and accepts more than one space after it', () => {
    const original = signed().authorization!;
    expect(refusal(() => verify(signed({ authorization: `x${original}` }), at))).toMatchObject(hmacRefusal);
    expect(verify(signed({ authorization: original.replace('HMAC-SHA256 ', 'HMAC-SHA256   ') }), at)).toBe(contentHash('{}'));
  });

  it('answers a signature or content hash of the wrong length with the same 401, not an error', () => {
    const original = signed().authorization!;
    const shortSignature = original.replace(/Signature=.*$/, `Signature=${Buffer.alloc(8).toString('base64')}`);
    expect(refusal(() => verify(signed({ authorization: shortSignature }), at))).toMatchObject(hmacRefusal);
    expect(refusal(() => verifyContentDigest(contentHash('{}'), Buffer.alloc(8).toString('base64')))).toMatchObject(hmacRefusal);
  });

  it('leaves a streamed body (undefined) to the caller, but checks a buffered body against the signed hash', () => {
    expect(verify(signed(), at, undefined)).toBe(contentHash('{}'));
    expect(refusal(() => verify(signed(), at, Buffer.from('{"tampered":1}')))).toMatchObject(hmacRefusal);
  });

  it('signs with the base64-decoded key over the UTF-8 string to sign', () => {
    const toSign = 'POST\n/identities/caf\u00e9?api-version=2023-10-01\nTue, 01 Dec 2026 10:00:00 GMT;acs.example:7443;47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
    expect(sign(toSign, key)).toBe(createHmac('sha256', Buffer.from(key, 'base64')).update(Buffer.from(toSign, 'utf8')).digest('base64'));
  });

  it('signs a request without a body with the hash of the empty body', () => {
    expect(signRequestHeaders({ method: 'GET', url, key, date: at })['x-ms-content-sha256']).toBe(contentHash(''));
  });
});

describe('management-key authentication', () => {
  const managementKey = 'the-management-key';
  const check = (authorization?: string) => () => requireManagementKey(request(authorization === undefined ? {} : { authorization }) as never, managementKey);

  it('accepts Bearer with the key, in any case and with more than one space', () => {
    expect(check(`Bearer ${managementKey}`)).not.toThrow();
    expect(check(`bearer   ${managementKey}`)).not.toThrow();
  });

  it('refuses a missing header, another scheme, anything before Bearer, and a wrong key, each with its message and the Bearer challenge', () => {
    expect(refusal(check())).toMatchObject({
      code: 'Unauthorized',
      message: 'The Authorization header is missing; send "Bearer <management key>".',
      headers: { 'www-authenticate': 'Bearer' },
    });
    for (const header of [`Basic ${managementKey}`, `xBearer ${managementKey}`, 'Bearer wrong', `Bearer ${managementKey}x`]) {
      expect(refusal(check(header)), header).toMatchObject({ code: 'Unauthorized', message: 'The management key is not valid.', headers: { 'www-authenticate': 'Bearer' } });
    }
  });
});
