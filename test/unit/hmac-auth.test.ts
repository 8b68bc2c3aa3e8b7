import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contentHash, signRequestHeaders, stringToSign, verifyHmacRequest } from '../../shared/auth/hmac-auth.js';
import { ManualClock } from '../../shared/clock.js';
import { ServiceError } from '../../shared/errors/service-error.js';

interface Capture {
  request: { method: string; url: string; headers: Record<string, string>; body?: unknown };
  hmacVerification?: { stringToSign: string };
}

// The project's own fixture: requests the official ACS SDKs signed (captured against an HTTPS stub), with the string-to-sign of each.
const captures = (
  JSON.parse(readFileSync(new URL('../fixtures/sdk-wire-capture.json', import.meta.url), 'utf8')) as { captures: Capture[] }
).captures.filter((c) => c.hmacVerification);

const headersOf = (record: Record<string, string>) => new Headers(record);

describe('HMAC string-to-sign matches what the ACS SDKs signed (test/fixtures/sdk-wire-capture.json)', () => {
  it('has captures to check', () => {
    expect(captures.length).toBe(10);
  });

  it.each(captures.map((c) => [`${c.request.method} ${c.request.url}`, c] as const))('%s', (_, capture) => {
    const { method, url, headers, body } = capture.request;
    const fullUrl = `https://${headers.host}${url}`;
    expect(stringToSign(method, fullUrl, headers['x-ms-date']!, headers.host!, headers['x-ms-content-sha256']!)).toBe(
      capture.hmacVerification!.stringToSign,
    );
    expect(contentHash(body === undefined ? '' : JSON.stringify(body))).toBe(headers['x-ms-content-sha256']);
  });
});

describe('verifyHmacRequest', () => {
  const key = Buffer.alloc(64, 3).toString('base64');
  const url = 'https://localhost:7443/identities?resource=demo&api-version=2023-10-01';
  const clock = new ManualClock('2026-11-21T12:00:00Z');
  const signed = (overrides: { body?: string; date?: Date; key?: string } = {}) =>
    signRequestHeaders({ method: 'POST', url, body: overrides.body ?? '{}', key: overrides.key ?? key, date: overrides.date ?? clock.now() });
  const request = (headers: Record<string, string>) => ({ method: 'POST', url, headers: headersOf({ ...headers, host: 'localhost:7443' }) });
  const expect401 = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(ServiceError);
      expect((error as ServiceError).status).toBe(401);
      return;
    }
    throw new Error('expected a 401');
  };

  it('accepts a correct signature with either key', () => {
    const other = Buffer.alloc(64, 9).toString('base64');
    expect(verifyHmacRequest(request(signed()), [other, key], clock, Buffer.from('{}'))).toBe(contentHash('{}'));
  });

  it('refuses a wrong key, a tampered body, a different host, a stale or future date, a missing header', () => {
    expect401(() => verifyHmacRequest(request(signed({ key: Buffer.alloc(64, 1).toString('base64') })), [key], clock, Buffer.from('{}')));
    expect401(() => verifyHmacRequest(request(signed()), [key], clock, Buffer.from('{"x":1}')));
    expect401(() => verifyHmacRequest({ ...request(signed()), headers: headersOf({ ...signed(), host: 'localhost:9999' }) }, [key], clock, Buffer.from('{}')));
    expect401(() => verifyHmacRequest(request(signed({ date: new Date(clock.now().getTime() - 16 * 60_000) })), [key], clock, Buffer.from('{}')));
    expect401(() => verifyHmacRequest(request(signed({ date: new Date(clock.now().getTime() + 16 * 60_000) })), [key], clock, Buffer.from('{}')));
    const { authorization: _omit, ...withoutAuth } = signed();
    expect401(() => verifyHmacRequest(request(withoutAuth), [key], clock, Buffer.from('{}')));
    expect401(() => verifyHmacRequest(request(signed()), [], clock, Buffer.from('{}')));
  });
});
