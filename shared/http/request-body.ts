import type { HttpRequest } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';

/**
 * Reads a request body up to a limit. A Content-Length over the limit is refused before anything is
 * read; a body without one is counted as it streams and refused as soon as it passes the limit.
 */
export async function readBody(request: HttpRequest, maxBytes: number): Promise<Buffer> {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request.body as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function tooLarge(maxBytes: number): ServiceError {
  return new ServiceError('PayloadTooLarge', `The request body is larger than the limit of ${maxBytes} bytes.`);
}

/** Parses a JSON body; an empty body is `undefined`. Requires a JSON content type when a body is present. */
export function parseJsonBody(request: HttpRequest, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    throw new ServiceError('UnsupportedMediaType', `Content-Type must be application/json, not '${contentType || 'none'}'.`, {
      target: 'Content-Type',
    });
  }
  const parsed = jsonOf(body);
  if (!parsed.ok) throw new ServiceError('BadRequest', 'The request body is not valid JSON.');
  return parsed.value;
}

const parsedBodies = new WeakMap<Buffer, { ok: true; value: unknown } | { ok: false }>();

/**
 * A body parsed as JSON, once per body: the operation log notes the subjects a request names before
 * its handler parses the same body (a 100 KB body was parsed twice). Callers only read the value.
 */
export function jsonOf(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  let parsed = parsedBodies.get(body);
  if (!parsed) {
    try {
      parsed = { ok: true, value: JSON.parse(body.toString('utf8')) as unknown };
    } catch {
      parsed = { ok: false };
    }
    parsedBodies.set(body, parsed);
  }
  return parsed;
}
