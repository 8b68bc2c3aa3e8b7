import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { viewOf } from './received-mail.js';
import type { FailureRule, SmtpRelayServer } from './relay-server.js';
import { readJsonBody } from '../read-request.js';

/**
 * The embedded relay's HTTP API (loopback only), like the local Event Grid topic's:
 *
 *   GET    /api/messages[?to=<address>]      { value: ReceivedMailView[], dropped } (parsed with mailparser)
 *   GET    /api/messages/{id}/raw            the message as received (message/rfc822)
 *   DELETE /api/messages                     forget the messages, attempts and refusals -> 204
 *   GET    /api/attempts[?address=<address>] { value: RcptAttempt[] }: every RCPT TO and the reply it got
 *   GET    /api/refusals                     { value }: sessions refused at AUTH or MAIL FROM (no TLS, bad credentials)
 *   GET    /api/failures                     { value: {address, ...FailureRule}[] }
 *   PUT    /api/failures/{address}           {mode: permanent|temporary, code?, stage?: rcpt|data, times?} -> 204
 *   DELETE /api/failures/{address}           -> 204
 *
 * Errors are `{ "error": { "code", "message" } }`.
 */
export async function startRelayHttp(relay: SmtpRelayServer, port = 0): Promise<{ url: string; port: number; stop(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    handle(relay, req, res).catch((error: unknown) => send(res, 500, { error: { code: 'InternalError', message: error instanceof Error ? error.message : String(error) } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(res: ServerResponse, status: number, body?: unknown, contentType = 'application/json; charset=utf-8'): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': contentType, 'content-length': text.length }).end(text);
}

function parseRule(value: unknown): FailureRule | string {
  const rule = value as Partial<FailureRule>;
  if (rule.mode !== 'permanent' && rule.mode !== 'temporary') return 'mode must be permanent or temporary';
  if (rule.code !== undefined && (!Number.isInteger(rule.code) || rule.code < 400 || rule.code > 599 || (rule.mode === 'permanent') !== rule.code >= 500)) {
    return 'code must be a 4xx reply for a temporary failure and a 5xx reply for a permanent one';
  }
  if (rule.stage !== undefined && rule.stage !== 'rcpt' && rule.stage !== 'data') return 'stage must be rcpt or data';
  if (rule.times !== undefined && (!Number.isInteger(rule.times) || rule.times < 1)) return 'times must be a positive whole number';
  return { mode: rule.mode, ...(rule.code !== undefined ? { code: rule.code } : {}), ...(rule.stage ? { stage: rule.stage } : {}), ...(rule.times !== undefined ? { times: rule.times } : {}) };
}

async function handle(relay: SmtpRelayServer, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://relay');
  const method = req.method ?? 'GET';
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'api') return send(res, 404, { error: { code: 'NotFound', message: 'Unknown path' } });
  const [, collection, id, tail] = parts;
  if (collection === 'messages' && !id) {
    if (method === 'DELETE') {
      relay.clear();
      return send(res, 204);
    }
    if (method !== 'GET') return send(res, 405);
    const to = url.searchParams.get('to')?.toLowerCase();
    const mails = relay.received.filter((m) => !to || m.envelope.rcptTo.some((r) => r.toLowerCase() === to));
    return send(res, 200, { value: await Promise.all(mails.map(viewOf)), dropped: relay.dropped });
  }
  if (collection === 'messages' && id && tail === 'raw' && method === 'GET') {
    const mail = relay.received.find((m) => m.id === id);
    return mail ? send(res, 200, mail.raw, 'message/rfc822') : send(res, 404, { error: { code: 'NotFound', message: `No message ${id}` } });
  }
  if (collection === 'attempts' && method === 'GET') {
    const address = url.searchParams.get('address')?.toLowerCase();
    return send(res, 200, { value: relay.attempts.filter((a) => !address || a.address === address) });
  }
  if (collection === 'refusals' && method === 'GET') return send(res, 200, { value: relay.refusals });
  if (collection === 'failures') {
    if (!id && method === 'GET') return send(res, 200, { value: [...relay.failures].map(([address, rule]) => ({ address, ...rule })) });
    if (id && method === 'DELETE') {
      relay.failures.delete(id.toLowerCase());
      return send(res, 204);
    }
    if (id && method === 'PUT') {
      const rule = parseRule((await readJsonBody(req)) ?? {});
      if (typeof rule === 'string') return send(res, 400, { error: { code: 'BadRequest', message: rule } });
      relay.failures.set(id.toLowerCase(), rule);
      return send(res, 204);
    }
  }
  return send(res, 404, { error: { code: 'NotFound', message: `No ${method} ${url.pathname}` } });
}
