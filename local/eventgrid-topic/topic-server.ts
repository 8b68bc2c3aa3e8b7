import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { eventTypeOf, parsePublishBody, type EventSchemaName } from './event-schemas.js';
import { TopicAuthorizer, type PublishAuthorization } from './topic-auth.js';
import { WebhookDeliverer, type WebhookSubscription } from './webhook-delivery.js';

export type { WebhookSubscription, DeadLetteredEvent } from './webhook-delivery.js';

/**
 * A local stand-in for an Event Grid custom topic, reachable with the real `EventGridPublisherClient`.
 *
 * The client (@azure/eventgrid 5.12) refuses plain-http endpoints ("Cannot connect to http://... while
 * allowInsecureConnection is false"), so it must be created with that pipeline option:
 *
 *   new EventGridPublisherClient(topic.endpoint, 'CloudEvent', new AzureKeyCredential(key),
 *     { allowInsecureConnection: true });
 *
 * It then POSTs to `<endpoint>?api-version=2018-01-01` with the key in `aeg-sas-key` (or, with a
 * Microsoft Entra credential, `Authorization: Bearer <token>`, which the client sends over HTTPS only:
 * start the topic with `tls` for that) and
 * - 'CloudEvent':  `content-type: application/cloudevents-batch+json; charset=utf-8`, a CloudEvents array;
 * - 'EventGrid':   `content-type: application/json`, an Event Grid schema array.
 *
 * HTTP API:
 *   POST   /api/events        publish (aeg-sas-key or bearer token required) -> 200 empty body | 400/401/413/415 error JSON
 *   GET    /api/events        { value: ReceivedEvent[], dropped: number }, optional ?type=<event type>;
 *                             the newest `maxReceived` events are kept, `dropped` counts the older ones let go
 *   DELETE /api/events        clear the received list (and the dropped count) -> 204
 *   GET    /api/deadletters   DeadLetteredEvent[]
 * Anything else is 404. Errors are `{ "error": { "code", "message" } }`, never a stack trace.
 */

export interface LocalTopicOptions {
  /**
   * the SAS key a publisher may send in `aeg-sas-key` (compared in constant time; `aeg-sas-token` is
   * not accepted); a Microsoft Entra token for `https://eventgrid.azure.net` is accepted instead
   * (topic-auth.ts)
   */
  key: string;
  /** Serve HTTPS with this certificate (needed for bearer tokens: the client refuses them over HTTP). */
  tls?: { key: string; cert: string };
  /** 0 = free port (default 0) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  subscriptions?: WebhookSubscription[];
  /** retry schedule for deliveries; default [1000, 2000, 4000, 8000, 16000, 30000] ms then give up -> dead-letter list */
  retryDelaysMs?: number[];
  /**
   * how many received events are kept for inspection, the oldest dropped first (default 10 000);
   * delivery to subscriptions does not depend on it
   */
  maxReceived?: number;
  log?: (line: string) => void;
}

export interface ReceivedEvent {
  receivedAt: string;
  schema: 'CloudEvents' | 'EventGrid';
  event: Record<string, unknown>;
}

/** `topic` stamped on Event Grid schema events (the real service uses the topic's ARM resource path). */
export const LOCAL_TOPIC = '/local/topics/acs-residency';
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1000, 2000, 4000, 8000, 16000, 30000];
export const DEFAULT_MAX_RECEIVED = 10_000;
/** Event Grid rejects publish requests larger than 1 MB. */
const MAX_BODY_BYTES = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** Reads the body; over the limit the rest is drained and HttpError(413) thrown. */
async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) {
    throw new HttpError(413, 'RequestEntityTooLarge', `Request body is ${size} bytes; the limit is ${MAX_BODY_BYTES} bytes.`);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class LocalEventGridTopic {
  private readonly sasKey: string;
  private readonly authorizer: TopicAuthorizer;
  private readonly tls: { key: string; cert: string } | undefined;
  private readonly accepted: { authorization: PublishAuthorization; events: number }[] = [];
  private readonly host: string;
  private readonly subscriptions: WebhookSubscription[];
  private readonly log: (line: string) => void;
  private readonly deliverer: WebhookDeliverer;
  private readonly events: ReceivedEvent[] = [];
  private readonly maxReceived: number;
  private droppedCount = 0;
  private slow: { afterRequests: number; delayMs: number; seen: number } | undefined;
  private server: http.Server | undefined;
  private port: number;
  private started = false;

  constructor(options: LocalTopicOptions) {
    if (!options.key) throw new Error('LocalEventGridTopic: options.key must be a non-empty string');
    const retryDelaysMs = options.retryDelaysMs ?? [...DEFAULT_RETRY_DELAYS_MS];
    if (retryDelaysMs.some((delay) => !Number.isFinite(delay) || delay < 0)) {
      throw new Error('LocalEventGridTopic: retryDelaysMs must be finite, non-negative numbers');
    }
    const maxReceived = options.maxReceived ?? DEFAULT_MAX_RECEIVED;
    if (!Number.isSafeInteger(maxReceived) || maxReceived < 0) {
      throw new Error('LocalEventGridTopic: maxReceived must be a non-negative integer');
    }
    this.maxReceived = maxReceived;
    this.sasKey = options.key;
    this.authorizer = new TopicAuthorizer(options.key);
    this.tls = options.tls;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.subscriptions = (options.subscriptions ?? []).map((s) => ({ ...s }));
    this.log = options.log ?? (() => {});
    this.deliverer = new WebhookDeliverer({
      topic: LOCAL_TOPIC,
      retryDelaysMs: [...retryDelaysMs],
      validationUrl: (code) => `${this.origin()}/api/validate?code=${encodeURIComponent(code)}`,
      log: this.log,
    });
  }

  /** Listens; after stop() it listens again on the same port, so the endpoint does not change. */
  async start(): Promise<void> {
    if (this.server) return;
    const listener = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        this.log(`[eventgrid] internal error: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) sendError(res, 500, 'InternalServerError', 'The local topic failed to process the request.');
        else res.destroy();
      });
    };
    const server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, listener) : http.createServer(listener);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    this.started = true;
    this.log(`[eventgrid] topic listening on ${this.endpoint}`);
  }

  /** Closes the server and its sockets; received events and pending deliveries are kept. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    this.log('[eventgrid] topic stopped');
  }

  /** Cancels all delivery retry timers and in-flight deliveries (final shutdown); does not stop the server. */
  dispose(): void {
    this.deliverer.dispose();
  }

  get endpoint(): string {
    return `${this.origin()}/api/events`;
  }

  /** The SAS key publishers must send (for wiring EVENTGRID_TOPIC_KEY into a local stack). */
  get key(): string {
    return this.sasKey;
  }

  received(): ReceivedEvent[] {
    return structuredClone(this.events);
  }

  /** The accepted publish requests (the newest `maxReceived`), in order: how each was authorized (key or bearer token) and how many events it held. */
  publishes(): { authorization: PublishAuthorization; events: number }[] {
    return structuredClone(this.accepted);
  }

  /** How many received events were let go to keep at most `maxReceived` (since the start or the last clear()). */
  get dropped(): number {
    return this.droppedCount;
  }

  clear(): void {
    this.events.length = 0;
    this.accepted.length = 0;
    this.droppedCount = 0;
  }

  /**
   * Test hook: after the next `afterRequests` publish requests, each one is held `delayMs` before it
   * is accepted, and one whose client went away meanwhile (a cancelled request) is not accepted.
   * Without options, requests are accepted at once again.
   */
  slowDown(options?: { afterRequests: number; delayMs: number }): void {
    this.slow = options ? { ...options, seen: 0 } : undefined;
  }

  deadLettered(): { subscription: string; event: Record<string, unknown>; attempts: number; lastError: string }[] {
    return this.deliverer.deadLettered();
  }

  /** Resolves when all queued deliveries are done (delivered or dead-lettered). */
  idle(): Promise<void> {
    return this.deliverer.idle();
  }

  private origin(): string {
    if (!this.started) throw new Error('LocalEventGridTopic: the endpoint is known only after start()');
    const host = this.host === '0.0.0.0' || this.host === '::' ? '127.0.0.1' : this.host;
    return `${this.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = `${req.method ?? ''} ${url.pathname.replace(/\/+$/, '')}`;
    switch (route) {
      case 'POST /api/events':
        return this.publish(req, res);
      case 'GET /api/events': {
        const type = url.searchParams.get('type');
        const value = type === null ? this.received() : this.received().filter((r) => eventTypeOf(r.schema, r.event) === type);
        return sendJson(res, 200, { value, dropped: this.droppedCount });
      }
      case 'DELETE /api/events':
        this.clear();
        res.writeHead(204).end();
        return;
      case 'GET /api/deadletters':
        return sendJson(res, 200, this.deadLettered());
      default:
        req.resume();
        return sendError(res, 404, 'NotFound', `No route for ${req.method ?? ''} ${url.pathname}.`);
    }
  }

  private async publish(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req);
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.code, err.message);
      throw err;
    }
    const authorized = this.authorizer.authorize(req.headers);
    if (!authorized.ok) return sendError(res, 401, 'Unauthorized', authorized.message);
    const parsed = parsePublishBody(req.headers['content-type'], body);
    if (!parsed.ok) return sendError(res, parsed.status, parsed.code, parsed.message);
    if (!(await this.holdIfSlowed(res))) {
      this.log(`[eventgrid] not accepted: ${parsed.events.length} event(s) of a request its client cancelled`);
      return;
    }

    const receivedAt = new Date().toISOString();
    const accepted = parsed.events.map((event) =>
      parsed.schema === 'EventGrid' ? { ...event, topic: LOCAL_TOPIC, metadataVersion: '1' } : event,
    );
    for (const event of accepted) this.events.push({ receivedAt, schema: parsed.schema, event });
    this.accepted.push({ authorization: authorized.authorization, events: accepted.length });
    if (this.accepted.length > this.maxReceived) this.accepted.splice(0, this.accepted.length - this.maxReceived);
    const excess = this.events.length - this.maxReceived;
    if (excess > 0) {
      this.events.splice(0, excess);
      this.droppedCount += excess;
    }
    res.writeHead(200, { 'content-length': 0 }).end();

    this.log(`[eventgrid] accepted ${accepted.length} ${parsed.schema} event(s)`);
    for (const event of accepted) this.dispatch(parsed.schema, event);
  }

  /** Holds a request while slowed down (see slowDown); false when its client went away meanwhile. */
  private async holdIfSlowed(res: ServerResponse): Promise<boolean> {
    const slow = this.slow;
    if (!slow) return true;
    slow.seen += 1;
    if (slow.seen <= slow.afterRequests) return true;
    let gone = false;
    const onClose = () => {
      gone = true;
    };
    res.once('close', onClose);
    await new Promise((resolve) => setTimeout(resolve, slow.delayMs).unref());
    res.off('close', onClose);
    return !gone && !res.destroyed;
  }

  private dispatch(schema: EventSchemaName, event: Record<string, unknown>): void {
    const type = eventTypeOf(schema, event);
    for (const subscription of this.subscriptions) {
      if (subscription.includedEventTypes && !subscription.includedEventTypes.includes(type)) continue;
      this.deliverer.enqueue(subscription, schema, structuredClone(event));
    }
  }
}
