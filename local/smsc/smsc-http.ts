import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import type { LocalSmsc } from './smsc.js';
import { readJsonBody } from '../read-request.js';

/**
 * The embedded SMSC's HTTP API (loopback only), to see what the carrier received and to act as a
 * handset or the network:
 *
 *   GET    /api/messages          { value: SubmittedPdu[] }  every submit_sm, in order (one per segment)
 *   DELETE /api/messages          forget them (and the injected messages) -> 204
 *   GET    /api/sessions          the bound sessions (system id, bind type, since)
 *   POST   /api/inbound           { from, to, text, systemId? } -> 202 the injected message (delivered as deliver_sm)
 *   GET    /api/inbound           { value: InjectedMessage[] }  with their delivery status
 *   GET    /api/failing-numbers   { numbers }    PUT the same body: deliveries to these numbers fail (stat:UNDELIV)
 *   POST   /api/link              { available: boolean }: a carrier outage (false) and its end (true) -> 204
 *
 * Errors are `{ "error": { "code", "message" } }`.
 */
const inboundSchema = z.strictObject({
  from: z.string().regex(/^\+?\d{3,15}$/, 'from must be a phone number'),
  to: z.string().regex(/^\+?\d{3,15}$/, 'to must be a phone number'),
  text: z.string().max(4000, 'text must be at most 4000 characters'),
  systemId: z.string().optional(),
});
const failingSchema = z.strictObject({ numbers: z.array(z.string().regex(/^\+?\d{3,15}$/, 'numbers must be phone numbers')) });
const linkSchema = z.strictObject({ available: z.boolean() });

export class SmscHttpApi {
  #server: http.Server | undefined;
  #port: number;

  constructor(
    private readonly smsc: LocalSmsc,
    port = 0,
  ) {
    this.#port = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => send(res, 500, { error: { code: 'InternalServerError', message: error instanceof Error ? error.message : 'failed' } }));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? ''} ${url.pathname.replace(/\/+$/, '')}`;
    switch (route) {
      case 'GET /api/messages':
        return send(res, 200, { value: this.smsc.submitted });
      case 'DELETE /api/messages':
        this.smsc.submitted.length = 0;
        this.smsc.injected.length = 0;
        return send(res, 204);
      case 'GET /api/sessions':
        return send(res, 200, { value: this.smsc.sessions(), available: this.smsc.available });
      case 'GET /api/inbound':
        return send(res, 200, { value: this.smsc.injected });
      case 'POST /api/inbound': {
        const body = inboundSchema.safeParse(await readJsonBody(req, 64 * 1024));
        if (!body.success) return invalid(res, body.error);
        return send(res, 202, this.smsc.inject(body.data));
      }
      case 'GET /api/failing-numbers':
        return send(res, 200, { numbers: [...this.smsc.failingNumbers] });
      case 'PUT /api/failing-numbers': {
        const body = failingSchema.safeParse(await readJsonBody(req, 64 * 1024));
        if (!body.success) return invalid(res, body.error);
        this.smsc.failingNumbers = new Set(body.data.numbers);
        return send(res, 204);
      }
      case 'POST /api/link': {
        const body = linkSchema.safeParse(await readJsonBody(req, 64 * 1024));
        if (!body.success) return invalid(res, body.error);
        await this.smsc.setAvailable(body.data.available);
        return send(res, 204);
      }
      default:
        req.resume();
        return send(res, 404, { error: { code: 'NotFound', message: `No route for ${req.method ?? ''} ${url.pathname}.` } });
    }
  }
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
}

function invalid(res: ServerResponse, error: z.ZodError): void {
  send(res, 400, { error: { code: 'BadRequest', message: error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') } });
}

