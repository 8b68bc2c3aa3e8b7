import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * WhatsApp signs every webhook POST with its app's secret: `X-Hub-Signature-256: sha256=<hex>`,
 * the HMAC-SHA256 of the raw body. It is checked against the bytes as they arrived, before the body
 * is parsed, in constant time.
 */
export function webhookSignature(rawBody: Buffer | string, appSecret: string): string {
  return `sha256=${createHmac('sha256', appSecret).update(rawBody).digest('hex')}`;
}

export function hasValidSignature(rawBody: Buffer, header: string | null, appSecret: string): boolean {
  if (!header) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  const expected = createHmac('sha256', appSecret).update(rawBody).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}
