import net from 'node:net';
import tls from 'node:tls';

/**
 * Raw HTTP/1.1 over a socket, for requests no HTTP client would send (bad Host headers, request
 * targets that are not paths, truncated bodies). What the server answered is parsed only as far as
 * the tests need: status line, headers and body text.
 */
export interface RawResponse {
  /** 0 when the server closed the connection without answering. */
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface RawTarget {
  url: string;
  /** The listener's certificate, for HTTPS. */
  ca?: string;
}

function connect(target: RawTarget): net.Socket {
  const url = new URL(target.url);
  const port = Number(url.port);
  return url.protocol === 'https:'
    ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ca: target.ca, rejectUnauthorized: target.ca !== undefined })
    : net.connect({ host: '127.0.0.1', port });
}

function parse(raw: Buffer): RawResponse {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (!text.startsWith('HTTP/')) return { status: 0, headers: {}, body: text };
  const head = end === -1 ? text : text.slice(0, end);
  const [statusLine, ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = end === -1 ? '' : raw.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1')).toString('utf8');
  if (headers['transfer-encoding'] === 'chunked') body = unchunk(body);
  return { status: Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0), headers, body };
}

function unchunk(body: string): string {
  let out = '';
  let rest = body;
  for (;;) {
    const lineEnd = rest.indexOf('\r\n');
    if (lineEnd === -1) return out;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (!size) return out;
    out += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/**
 * Sends `request` (bytes as written, latin1 for strings) and collects the answer until the server
 * closes the connection (send `Connection: close`) or `timeoutMs` passes. With `abortAfterWrite` the socket is destroyed right after
 * writing (a client that goes away mid-request) and no answer is awaited.
 */
export function rawRequest(target: RawTarget, request: string | Buffer, options: { timeoutMs?: number; abortAfterWrite?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve) => {
    const socket = connect(target);
    const chunks: Buffer[] = [];
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(Buffer.concat(chunks)));
    };
    const timer = setTimeout(finish, options.timeoutMs ?? 5000);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('close', finish);
    socket.on('error', finish);
    socket.once(target.url.startsWith('https:') ? 'secureConnect' : 'connect', () => {
      // No half-close after writing: Node's server takes a client's FIN as the request being aborted.
      socket.write(typeof request === 'string' ? Buffer.from(request, 'latin1') : request, () => {
        if (options.abortAfterWrite) setTimeout(finish, 50);
      });
    });
  });
}
