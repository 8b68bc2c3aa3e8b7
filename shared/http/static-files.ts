import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';

/**
 * Serves a folder of built static files (the privacy console): only GET and HEAD, only files inside
 * the folder (no dot segments, no encoded separators, no hidden files), with their content type,
 * hashed assets (`assets/name-hash.ext`, which never change) cached for a year as immutable and
 * everything else revalidated on every load (`no-cache`, with an ETag). Text is gzipped when the
 * client accepts it (compressed once per file and kept). Node's own modules only: nothing heavy
 * loads with the app.
 */
export interface StaticResponse {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** The console's pages: its own scripts, styles and API calls only; never framed. */
const HTML_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

interface CachedFile {
  mtimeMs: number;
  size: number;
  body: Buffer;
  gzip?: Buffer;
}

export class StaticFiles {
  readonly #cache = new Map<string, CachedFile>();

  /** `root` finds the folder (undefined: not built); `index` answers the folder itself. */
  constructor(private readonly root: () => Promise<string | undefined>, private readonly index = 'index.html') {}

  async serve(method: string, path: string, headers: { get(name: string): string | null }): Promise<StaticResponse> {
    if (method !== 'GET' && method !== 'HEAD') return { status: 405, headers: { allow: 'GET, HEAD' } };
    const root = await this.root();
    if (!root) return { status: 404, headers: {} };
    const relative = safeRelativePath(path);
    if (relative === undefined) return { status: 404, headers: {} };
    const file = resolve(root, relative === '' ? this.index : relative);
    if (!file.startsWith(resolve(root) + sep)) return { status: 404, headers: {} };
    const ext = extname(file).toLowerCase();
    const type = CONTENT_TYPES[ext];
    const found = type ? await this.#read(file) : undefined;
    if (!found || !type) return { status: 404, headers: {} };
    const etag = `"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`;
    const immutable = relative.startsWith('assets/');
    const response: Record<string, string> = {
      'content-type': type,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      etag,
      'x-content-type-options': 'nosniff',
      ...(ext === '.html' ? HTML_HEADERS : {}),
    };
    if (headers.get('if-none-match') === etag) return { status: 304, headers: response };
    let body = found.body;
    if (COMPRESSIBLE.has(ext)) {
      response.vary = 'Accept-Encoding';
      if (/\bgzip\b/i.test(headers.get('accept-encoding') ?? '')) {
        found.gzip ??= (await import('node:zlib')).gzipSync(found.body, { level: 9 });
        body = found.gzip;
        response['content-encoding'] = 'gzip';
      }
    }
    response['content-length'] = String(body.length);
    return { status: 200, headers: response, ...(method === 'GET' ? { body } : {}) };
  }

  async #read(file: string): Promise<CachedFile | undefined> {
    try {
      const info = await stat(file);
      if (!info.isFile()) return undefined;
      const cached = this.#cache.get(file);
      if (cached && cached.mtimeMs === info.mtimeMs && cached.size === info.size) return cached;
      const entry: CachedFile = { mtimeMs: info.mtimeMs, size: info.size, body: await readFile(file) };
      this.#cache.set(file, entry);
      return entry;
    } catch {
      return undefined;
    }
  }
}

/**
 * The path below the folder, or undefined when it tries to leave it or names something not served:
 * `..` or `.` segments, empty segments, backslashes, NUL, percent-encoded separators, hidden files.
 */
export function safeRelativePath(path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded === '' || decoded === '/') return '';
  if (/[\\\0]/.test(decoded) || /%2f|%5c/i.test(path)) return undefined;
  const trimmed = decoded.replace(/^\/+/, '');
  const segments = trimmed.split('/');
  if (segments.some((s) => s === '' || s.startsWith('.'))) return undefined;
  return segments.join('/');
}

/** The first folder that holds `index.html`, or undefined. */
export async function firstBuiltFolder(candidates: string[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    try {
      if ((await stat(join(candidate, 'index.html'))).isFile()) return candidate;
    } catch {
      // Not this one.
    }
  }
  return undefined;
}
