import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';

/**
 * ACS resource-key authentication, exactly as the SDKs sign (communication-common's
 * CommunicationAccessKeyCredentialPolicy):
 *
 *   stringToSign = VERB \n pathAndQuery \n x-ms-date;host;x-ms-content-sha256
 *   Authorization: HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=base64(hmac)
 *
 * where pathAndQuery is the URL's pathname plus `?` and its re-serialised query, the key is
 * base64-decoded, and host is the host the client dialled, port included. Every failure is the same
 * 401, so a caller cannot learn which part was wrong.
 */
export const HMAC_MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface SignedRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | null };
}

const AUTH_PATTERN = /^HMAC-SHA256\s+SignedHeaders=([^&]+)&Signature=(.+)$/i;

function unauthorized(): ServiceError {
  return new ServiceError('Unauthorized', 'The request is not authorized: the HMAC signature could not be verified.', {
    headers: { 'www-authenticate': 'HMAC-SHA256' },
  });
}

export function pathAndQuery(url: string): string {
  const parsed = new URL(url);
  const query = parsed.searchParams.toString();
  return query ? `${parsed.pathname}?${query}` : parsed.pathname;
}

export function contentHash(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('base64');
}

export function stringToSign(method: string, url: string, date: string, host: string, hash: string): string {
  return `${method.toUpperCase()}\n${pathAndQuery(url)}\n${date};${host};${hash}`;
}

export function sign(stringToSignValue: string, base64Key: string): string {
  return createHmac('sha256', Buffer.from(base64Key, 'base64')).update(stringToSignValue, 'utf8').digest('base64');
}

/**
 * Verifies the signature, the date and (when the body is given) the content hash. For a body that
 * is streamed, pass `body: undefined` and check the hash the header claims with `verifyContentDigest`
 * once the stream has been read. Returns the claimed content hash.
 */
export function verifyHmacRequest(
  request: SignedRequest,
  keys: readonly string[],
  clock: Clock,
  body: Buffer | undefined,
): string {
  const authorization = request.headers.get('authorization');
  const date = request.headers.get('x-ms-date') ?? request.headers.get('date');
  const claimedHash = request.headers.get('x-ms-content-sha256');
  const host = request.headers.get('host') ?? new URL(request.url).host;
  const match = authorization ? AUTH_PATTERN.exec(authorization.trim()) : null;
  if (!match || !date || !claimedHash || !host) throw unauthorized();
  if (match[1]!.toLowerCase() !== 'x-ms-date;host;x-ms-content-sha256') throw unauthorized();

  const sentAt = Date.parse(date);
  if (Number.isNaN(sentAt) || Math.abs(clock.now().getTime() - sentAt) > HMAC_MAX_CLOCK_SKEW_MS) throw unauthorized();

  const expected = stringToSign(request.method, request.url, date, host, claimedHash);
  const given = Buffer.from(match[2]!, 'base64');
  const valid = keys.some((key) => {
    const computed = Buffer.from(sign(expected, key), 'base64');
    return computed.length === given.length && timingSafeEqual(computed, given);
  });
  if (!valid) throw unauthorized();
  if (body !== undefined) verifyContentHash(body, claimedHash);
  return claimedHash;
}

export function verifyContentHash(body: Buffer | string, claimedHash: string): void {
  verifyContentDigest(contentHash(body), claimedHash);
}

/** Compares a body's base64 SHA-256, computed as it streamed, with the hash the signature covers. */
export function verifyContentDigest(actualHash: string, claimedHash: string): void {
  const actual = Buffer.from(actualHash, 'base64');
  const claimed = Buffer.from(claimedHash, 'base64');
  if (actual.length !== claimed.length || !timingSafeEqual(actual, claimed)) throw unauthorized();
}

/** Builds the headers an ACS SDK would send; used by our own clients (CLI, tests, benchmarks). */
export function signRequestHeaders(options: {
  method: string;
  url: string;
  body?: Buffer | string;
  /** The body's base64 SHA-256, for a body streamed later instead of given here. */
  contentHash?: string;
  key: string;
  date?: Date;
}): Record<string, string> {
  const date = (options.date ?? new Date()).toUTCString();
  const host = new URL(options.url).host;
  const hash = options.contentHash ?? contentHash(options.body ?? '');
  const signature = sign(stringToSign(options.method, options.url, date, host, hash), options.key);
  return {
    'x-ms-date': date,
    'x-ms-content-sha256': hash,
    authorization: `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`,
  };
}
