import type { IncomingMessage } from 'node:http';

/** The Functions host's default limit on a request body (FUNCTIONS_REQUEST_BODY_SIZE_LIMIT, 100 MB). */
export const MAX_BUFFERED_BODY_BYTES = 104_857_600;

/** A body larger than the limit: the host answers 413. */
export class RequestBodyTooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`The request body is larger than ${limit} bytes`);
    this.name = 'RequestBodyTooLargeError';
  }
}

/**
 * Reads a whole (small) request body: webhook batches, admin inputs, buffered-mode triggers. Rejects
 * if the client goes away before the body is complete, or if the body is larger than `maxBytes`.
 */
export async function readRequestBody(req: IncomingMessage, maxBytes = MAX_BUFFERED_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw new RequestBodyTooLargeError(maxBytes);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req) {
    length += (chunk as Buffer).length;
    if (length > maxBytes) throw new RequestBodyTooLargeError(maxBytes);
    chunks.push(chunk as Buffer);
  }
  if (!req.complete) throw new Error('The client closed the connection before the request body was complete');
  return Buffer.concat(chunks);
}

/**
 * The JSON body of an emulator's own HTTP API request (the SMSC's, the SMTP relay's, the WhatsApp
 * simulator's): undefined when it is empty, not JSON, larger than `maxBytes` or cut short, so the
 * caller's schema answers 400.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_BUFFERED_BODY_BYTES): Promise<unknown> {
  try {
    const body = await readRequestBody(req, maxBytes);
    return body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A request the host refuses before routing it: 400 with this message, in the ACS error shape. */
export type RequestTarget = { ok: true; url: URL; path: string } | { ok: false; message: string };

const HOST = /^(?:[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const MAX_HOST_LENGTH = 255;

/** `.` or `..`, in any spelling (`%2e`, `.%2E`, ...): a segment URL parsing folds onto its parent. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** `%2f` and `%5c`: separators that decoding would turn into path structure. */
const ENCODED_SEPARATOR = /%(?:2f|5c)/i;

const quoted = (text: string) => `'${text.length > 200 ? `${text.slice(0, 200)}...` : text}'`;

/**
 * The request's URL, read from the raw request line and Host header without the normalisation
 * `new URL(req.url, base)` would apply. Refused (never routed):
 * - a Host header that is missing on HTTP/1.1 (Node refuses that itself), repeated, longer than 255
 *   characters, or not `host[:port]` (a name, an IPv4 address or a bracketed IPv6 address);
 * - a request target that is not a path (`*`, the absolute form `http://x/`), or has a fragment,
 *   a backslash or a character outside printable ASCII;
 * - a path with a `%` not followed by two hex digits, or whose percent-encoding is not UTF-8;
 * - a path with a dot segment in any spelling (`.`, `..`, `%2e`, `.%2E`, ...), or an encoded `/` or
 *   `\` (`%2f`, `%5c`): URL parsing would fold those onto another route (`/threads/{id}/messages/..`
 *   is `/threads/{id}`), so they are refused rather than normalised.
 */
export function requestTarget(req: IncomingMessage, proto: 'http' | 'https'): RequestTarget {
  const hosts: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]!.toLowerCase() === 'host') hosts.push(req.rawHeaders[i + 1]!);
  if (hosts.length > 1) return { ok: false, message: 'The request has more than one Host header.' };
  const host = hosts[0] ?? 'localhost';
  if (host.length > MAX_HOST_LENGTH || !HOST.test(host)) return { ok: false, message: `The Host header ${quoted(host)} is not a valid host[:port].` };
  let origin: URL;
  try {
    origin = new URL(`${proto}://${host}`);
  } catch {
    return { ok: false, message: `The Host header ${quoted(host)} is not a valid host[:port].` };
  }

  const raw = req.url ?? '';
  if (!raw.startsWith('/')) return { ok: false, message: `The request target ${quoted(raw)} is not a path.` };
  if (!/^[\x21-\x7e]*$/.test(raw) || raw.includes('#')) {
    return { ok: false, message: `The request target ${quoted(raw)} has a character that is not allowed in a request target.` };
  }
  const queryAt = raw.indexOf('?');
  const path = queryAt === -1 ? raw : raw.slice(0, queryAt);
  const query = queryAt === -1 ? '' : raw.slice(queryAt);
  const segments = path.split('/');
  if (path.includes('\\') || ENCODED_SEPARATOR.test(path) || segments.some((s) => DOT_SEGMENT.test(s))) {
    return { ok: false, message: `The request path ${quoted(path)} has a dot segment or an encoded or backslash separator; it is refused, not normalised.` };
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(path) || !segments.every(decodes)) {
    return { ok: false, message: `The request path ${quoted(path)} is not validly percent-encoded.` };
  }
  // Built piece by piece: a path starting with `//` stays a path (as a relative reference it would
  // name another host), and nothing above is left for the URL parser to normalise.
  const url = new URL(origin.href);
  url.pathname = path;
  url.search = query;
  if (url.pathname !== path && decodeURI(url.pathname) !== decodeURI(path)) {
    return { ok: false, message: `The request path ${quoted(path)} is not a valid path.` };
  }
  return { ok: true, url, path };
}

function decodes(segment: string): boolean {
  try {
    decodeURIComponent(segment);
    return true;
  } catch {
    return false;
  }
}
