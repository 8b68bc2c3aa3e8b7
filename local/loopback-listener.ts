import http, { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TlsMaterial } from './tls-certificate.js';

/**
 * Listens on the loopback addresses only (127.0.0.1, and ::1 where the machine has IPv6), so that
 * `localhost` works whichever address a client resolves it to, and nothing is exposed beyond
 * this machine. Port 0 picks a free port (the IPv6 listener then takes the same one).
 *
 * No request can stop the process: a handler that throws or rejects gets a 500 (no details), a
 * request Node's HTTP parser refuses gets a 400 (431 for headers over Node's limit) in the ACS error
 * shape, and server and socket errors are logged, never thrown.
 */
export interface LoopbackListener {
  port: number;
  close(): Promise<void>;
}

export type LoopbackHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface LoopbackOptions {
  port: number;
  tls?: TlsMaterial;
  log?: (line: string) => void;
}

/** Sends a JSON body (or none) with a status; returns the status. */
export function sendJson(res: ServerResponse, status: number, body?: unknown): number {
  res.statusCode = status;
  if (body !== undefined) {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(body));
  } else res.end();
  return status;
}

/** 400 in the ACS error shape for a request the host cannot read; the connection is closed after it. */
export function badRequest(res: ServerResponse, message: string): number {
  res.setHeader('connection', 'close');
  return sendJson(res, 400, { error: { code: 'BadRequest', message } });
}

export async function listenLoopback(handler: LoopbackHandler, options: LoopbackOptions): Promise<LoopbackListener> {
  const log = (line: string) => {
    try {
      options.log?.(line);
    } catch {
      // A failing log sink must not take the listener down.
    }
  };
  const contained = (req: IncomingMessage, res: ServerResponse) => {
    const fail = (error: unknown) => {
      log(`listener: unhandled failure on ${req.method} request: ${error instanceof Error ? error.message : String(error)}`);
      try {
        if (res.headersSent) res.destroy();
        else sendJson(res, 500);
      } catch {
        res.destroy();
      }
    };
    try {
      const result = handler(req, res);
      if (result) result.catch(fail);
    } catch (error) {
      fail(error);
    }
  };
  const make = (): Server => {
    const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, contained) : http.createServer(contained);
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));
    return server;
  };
  const v4 = make();
  await listen(v4, options.port, '127.0.0.1');
  const actualPort = (v4.address() as AddressInfo).port;
  const servers = [v4];
  const v6 = make();
  try {
    await listen(v6, actualPort, '::1');
    servers.push(v6);
  } catch {
    // No IPv6 loopback here (or the port is taken on it): IPv4 alone serves.
  }
  for (const server of servers) {
    server.keepAliveTimeout = 5_000;
    // After listening, an error of the server (say, accept failing for want of file descriptors) is
    // logged; without a listener it would be thrown and end the process.
    server.on('error', (error) => log(`listener error: ${error.message}`));
  }
  return {
    port: actualPort,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

/**
 * What Node does by default for a request its parser refuses (or a socket error before a request),
 * with the ACS error shape: 400, or 431 when the headers are over Node's limit, then close. Nothing
 * is written if a response on that connection has already started or the socket is gone.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  try {
    const pending = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] =
      error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'RequestHeaderFieldsTooLarge', 'The request headers are larger than the host accepts.']
        : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'RequestTimeout', 'The request was not received in time.']
          : [400, 'BadRequest', 'The request could not be parsed as HTTP/1.1.'];
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  } catch {
    socket.destroy();
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
