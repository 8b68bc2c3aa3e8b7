import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudState, type SentMessage } from './cloud-state.js';
import { handleDev } from './dev-api.js';
import { handleGraph, sendJson } from './graph-api.js';
import { WebhookSender } from './webhook-sender.js';
import { readJsonBody } from '../read-request.js';

/**
 * An embedded WhatsApp Business Cloud API for `npm start` and the tests: the Graph API the app
 * calls (graph-api.ts), the webhooks WhatsApp posts (webhook-sender.ts) and a developer API to act
 * as users and as WhatsApp's dashboard (dev-api.ts), on one loopback HTTP port. Messages the app
 * sends are accepted and reported by webhook as `sent`, `delivered` and `read` (each
 * `statusDelayMs` after the last), or `failed` for the failing numbers. Everything is in memory.
 */
export interface SimulatorOptions {
  port?: number;
  /** The bearer token the Graph API takes (a system user's token). */
  accessToken: string;
  /** The app secret webhooks are signed with. */
  appSecret: string;
  statusDelayMs?: number;
  failingNumbers?: string[];
  /** Certificates the webhook posts trust (the dev host's self-signed one). */
  ca?: string;
  log?: (line: string) => void;
}

export class WhatsAppCloudSimulator {
  readonly state = new CloudState();
  readonly sender: WebhookSender;
  #server: http.Server | undefined;
  #port: number;
  readonly #timers = new Set<NodeJS.Timeout>();
  #stopped = false;

  constructor(private readonly options: SimulatorOptions) {
    this.#port = options.port ?? 0;
    this.sender = new WebhookSender(this.state, { appSecret: options.appSecret, ...(options.ca ? { ca: options.ca } : {}), ...(options.log ? { log: options.log } : {}) });
    this.state.failingNumbers = new Set((options.failingNumbers ?? []).map((n) => n.replace(/\D/g, '')));
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The Graph API base URL, as WHATSAPP_API_BASE_URL takes it. */
  get graphUrl(): string {
    return `${this.url}/v21.0`;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalServerError', message: error instanceof Error ? error.message : 'failed' } });
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.sender.stop();
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    let read: Promise<unknown> | undefined;
    const body = () => (read ??= readJsonBody(req, 16 * 1024 * 1024));
    const graph = { state: this.state, accessToken: this.options.accessToken, origin: () => this.url, onAccepted: (m: SentMessage) => this.#report(m) };
    if (await handleGraph(req, res, url, body, graph)) return;
    if (await handleDev(req.method ?? 'GET', url.pathname.replace(/\/+$/, ''), body, res, { state: this.state, sender: this.sender })) return;
    req.resume();
    sendJson(res, 404, { error: { code: 'NotFound', message: `No route for ${req.method ?? ''} ${url.pathname}.` } });
  }

  /** Reports what becomes of an accepted message, by webhook, one status at a time. */
  #report(message: SentMessage): void {
    const failing = this.state.failingNumbers.has(message.to);
    const statuses = failing ? ['failed'] : ['sent', 'delivered', 'read'];
    const delay = this.options.statusDelayMs ?? 100;
    // One status after the other, each `delay` after the previous one's first post was answered, so
    // they reach the app in order (a loaded machine could otherwise reorder concurrent posts).
    const next = (index: number): void => {
      const status = statuses[index];
      if (status === undefined || this.#stopped) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        const subscription = this.state.webhooks.get(message.phoneNumberId);
        message.statuses.push(status);
        if (!subscription) return next(index + 1);
        const item: Record<string, unknown> = { id: message.id, status, timestamp: String(Math.floor(Date.now() / 1000)), recipient_id: message.to };
        if (status === 'failed') item.errors = [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' } }];
        if (status === 'sent') item.conversation = { id: 'simulated-conversation', origin: { type: 'service' } };
        const delivery = this.sender.send(subscription, { statuses: [item] }, [`status:${message.id}:${status}`]);
        void this.sender.firstPost(delivery).then(() => next(index + 1));
      }, delay);
      this.#timers.add(timer);
    };
    next(0);
  }
}

