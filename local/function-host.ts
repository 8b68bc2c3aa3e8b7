import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { FunctionInvoker, triggerBinding } from './function-invoker.js';
import type { FunctionApp, RegisteredFunction } from './functions-core-shim.js';
import { serveEventGridWebhook } from './eventgrid-webhook.js';
import { serveHttpTrigger } from './http-trigger.js';
import { badRequest, listenLoopback, sendJson, type LoopbackListener } from './loopback-listener.js';
import { readRequestBody, RequestBodyTooLargeError, requestTarget } from './read-request.js';
import { compareRoutes, compileRoute, matchRoute, type CompiledRoute } from './route-template.js';
import { QueueOutputs } from './queue-output.js';
import { QueueTriggers, type QueueTriggerOptions } from './queue-trigger.js';
import { queueSettings, type QueueSettings } from './queue-settings.js';
import { TimerScheduler } from './timer-scheduler.js';
import type { TlsMaterial } from './tls-certificate.js';

/**
 * The development host: serves the functions of one app (a folder's registrations) with the
 * Functions host's semantics (HTTP routes under the route prefix, timers, queue triggers, the Event
 * Grid webhook and the admin endpoint that runs a non-HTTP function now), over HTTP and HTTPS on
 * loopback.
 */
export interface FunctionHostOptions {
  /** The functions, hooks and programming model the app's files registered (local/functions-core-shim.ts). */
  app: FunctionApp;
  routePrefix: string;
  env: Record<string, string | undefined>;
  httpPort: number;
  httpsPort: number;
  tls: TlsMaterial;
  log: (line: string) => void;
  /** host.json's queue settings (`extensions.queues`); the host's defaults when absent. */
  queues?: QueueSettings;
  /** Called once the listeners are bound (their URLs known), before the app's start hooks run. */
  onListening?: (host: FunctionHost) => void;
  /**
   * Whether this host runs the timers on their schedules (default true). The Functions host runs a
   * timer on one instance at a time (a singleton lock); a second development host instance runs none.
   */
  timers?: boolean;
  /** Identity-based queue connections and the processing visibility of queue messages (see QueueTriggers). */
  queueTriggers?: QueueTriggerOptions;
}

export interface RequestLogEntry {
  method: string;
  route: string;
  status: number;
  durationMs: number;
  correlationId: string;
}

interface HttpRoute {
  fn: RegisteredFunction;
  compiled: CompiledRoute;
  methods: Set<string>;
}

export class FunctionHost {
  readonly invoker: FunctionInvoker;
  readonly requests: RequestLogEntry[] = [];
  #routes: HttpRoute[] = [];
  #timers: TimerScheduler;
  readonly queueTriggers: QueueTriggers;
  #listeners: LoopbackListener[] = [];
  httpPort = 0;
  httpsPort = 0;

  constructor(private readonly options: FunctionHostOptions) {
    this.invoker = new FunctionInvoker(options.app, (fn, id, level, message) => options.log(`[${fn}] ${level} ${message} (${id})`));
    this.#timers = new TimerScheduler(this.invoker, options.env, options.log);
    const queues = options.queues ?? queueSettings();
    this.queueTriggers = new QueueTriggers(this.invoker, options.env, queues, options.log, options.queueTriggers);
    const outputs = new QueueOutputs(options.env, queues, options.queueTriggers?.identity);
    this.invoker.flushOutputs = (fn, result) => outputs.send(fn, result);
  }

  get httpUrl(): string {
    return `http://localhost:${this.httpPort}`;
  }

  get httpsUrl(): string {
    return `https://localhost:${this.httpsPort}`;
  }

  functions(): RegisteredFunction[] {
    return [...this.options.app.functions.values()];
  }

  async start(): Promise<void> {
    await this.invoker.capabilities();
    this.#routes = this.functions()
      .flatMap((fn) => {
        const [, binding] = triggerBinding(fn);
        if (binding.type?.toLowerCase() !== 'httptrigger') return [];
        const template = typeof binding.route === 'string' ? binding.route : fn.metadata.name;
        if (/^(admin|runtime)(\/|$)/i.test(template)) throw new Error(`Route '${template}' of ${fn.metadata.name} is reserved by the Functions host`);
        const methods = Array.isArray(binding.methods) ? binding.methods : ['GET', 'POST'];
        return [{ fn, compiled: compileRoute(template), methods: new Set(methods.map((m) => String(m).toUpperCase())) }];
      })
      .sort((a, b) => compareRoutes(a.compiled, b.compiled));
    const http = await listenLoopback((req, res) => this.#handle(req, res, 'http'), { port: this.options.httpPort, log: this.options.log });
    const https = await listenLoopback((req, res) => this.#handle(req, res, 'https'), { port: this.options.httpsPort, tls: this.options.tls, log: this.options.log });
    this.#listeners = [http, https];
    this.httpPort = http.port;
    this.httpsPort = https.port;
    try {
      // The app's own URL is known from here on (PUBLIC_BASE_URL), as it is in Azure before the app starts.
      this.options.onListening?.(this);
      // As in Azure: the app's start hooks run before it serves; one that throws (invalid settings) stops the start.
      await this.options.app.runHooks('appStart', { hookData: {}, appHookData: {}, functionAppDirectory: process.cwd() });
      // A timer schedule or queue binding the host cannot use fails the start, as in Azure.
      this.#timers.start(this.functions(), this.options.timers !== false);
      this.queueTriggers.start(this.functions());
    } catch (error) {
      this.#timers.stop();
      await this.queueTriggers.stop();
      await Promise.all(this.#listeners.map((l) => l.close()));
      this.#listeners = [];
      throw error;
    }
  }

  async stop(): Promise<void> {
    this.#timers.stop();
    await this.queueTriggers.stop();
    await Promise.all(this.#listeners.map((l) => l.close()));
    this.#listeners = [];
    await this.options.app.runHooks('appTerminate', { hookData: {}, appHookData: {} });
  }

  /** What `POST /admin/functions/{name}` does: runs a non-HTTP function now. */
  async runFunction(name: string, input?: string): Promise<void> {
    const fn = this.#find(name);
    if (!fn) throw new Error(`No function named ${name}`);
    const [bindingName, binding] = triggerBinding(fn);
    const type = binding.type?.toLowerCase();
    if (type === 'timertrigger') return this.#timers.runNow(fn.metadata.name);
    await this.invoker.invoke(fn, { inputData: [{ name: bindingName, data: type === 'eventgridtrigger' ? { json: input ?? '{}' } : { string: input ?? '' } }] });
  }

  #find(name: string): RegisteredFunction | undefined {
    return this.functions().find((f) => f.metadata.name.toLowerCase() === name.toLowerCase());
  }

  /**
   * Serves one request. Never rejects: a request that cannot be read is a 400, a body over the limit
   * a 413, and anything unexpected a 500 with no details (the log has them).
   */
  async #handle(req: IncomingMessage, res: ServerResponse, proto: 'http' | 'https'): Promise<void> {
    const started = performance.now();
    const invocationId = randomUUID();
    let route = '(refused)';
    let status: number;
    try {
      const target = requestTarget(req, proto);
      if (!target.ok) {
        status = badRequest(res, target.message);
        req.resume();
      } else {
        const { url } = target;
        route = url.pathname;
        const admin = /^\/admin\/functions\/([^/]+)\/?$/i.exec(url.pathname);
        if (admin) {
          route = '/admin/functions/{name}';
          status = await this.#admin(req, res, decodeURIComponent(admin[1]!));
        } else if (/^\/runtime\/webhooks\/eventgrid\/?$/i.test(url.pathname)) {
          route = '/runtime/webhooks/eventgrid';
          status = await serveEventGridWebhook(this.invoker, (n) => this.#find(n), req, res, url);
        } else {
          const found = this.#match(url.pathname, req.method ?? 'GET');
          if (!found) {
            res.statusCode = status = 404;
            res.end();
          } else {
            route = `/${this.#prefix()}${found.route.compiled.template}`;
            status = await serveHttpTrigger(this.invoker, { fn: found.route.fn, req, res, url, params: found.params, invocationId });
          }
        }
      }
    } catch (error) {
      status = this.#failed(req, res, route, error);
    }
    try {
      const entry = { method: req.method ?? '', route, status, durationMs: Math.round(performance.now() - started), correlationId: invocationId };
      this.requests.push(entry);
      if (this.requests.length > 1000) this.requests.shift();
      this.options.log(`${entry.method} ${entry.route} ${entry.status} ${entry.durationMs}ms ${entry.correlationId}`);
    } catch {
      // Logging must not take the host down either.
    }
  }

  /** Answers a request whose handling threw: 413 for a body over the limit, else 500 without details. */
  #failed(req: IncomingMessage, res: ServerResponse, route: string, error: unknown): number {
    try {
      this.options.log(`host error on ${req.method} ${route}: ${error instanceof Error ? error.message : String(error)}`);
    } catch {
      // A failing log sink must not stop the answer.
    }
    try {
      if (res.headersSent) {
        res.destroy();
        return res.statusCode;
      }
      if (error instanceof RequestBodyTooLargeError) {
        res.setHeader('connection', 'close');
        return sendJson(res, 413, { error: { code: 'PayloadTooLarge', message: error.message } });
      }
      res.statusCode = 500;
      res.end();
      return 500;
    } catch {
      res.destroy();
      return 500;
    }
  }

  #prefix(): string {
    const prefix = this.options.routePrefix.replace(/^\/+|\/+$/g, '');
    return prefix ? `${prefix}/` : '';
  }

  #match(pathname: string, method: string): { route: HttpRoute; params: Record<string, string> } | undefined {
    const prefix = this.#prefix();
    let path = pathname.replace(/^\/+/, '');
    if (prefix) {
      if (!path.toLowerCase().startsWith(prefix.toLowerCase()) && path.toLowerCase() !== prefix.slice(0, -1).toLowerCase()) return undefined;
      path = path.slice(prefix.length);
    }
    for (const route of this.#routes) {
      if (!route.methods.has(method.toUpperCase())) continue;
      const params = matchRoute(route.compiled, path);
      if (params) return { route, params };
    }
    return undefined;
  }

  async #admin(req: IncomingMessage, res: ServerResponse, name: string): Promise<number> {
    const reply = (status: number, body?: unknown) => sendJson(res, status, body);
    if (req.method !== 'POST') return reply(405);
    const fn = this.#find(name);
    if (!fn) return reply(404);
    if (triggerBinding(fn)[1].type?.toLowerCase() === 'httptrigger') {
      return reply(400, { error: `${fn.metadata.name} is an HTTP function; call its route instead` });
    }
    const body = await readRequestBody(req);
    let input: string | undefined;
    if (body.length > 0) {
      try {
        input = (JSON.parse(body.toString('utf8')) as { input?: string }).input;
      } catch {
        return reply(400, { error: 'The body must be JSON: {"input": "..."}' });
      }
    }
    try {
      await this.runFunction(fn.metadata.name, input);
    } catch (error) {
      // As in Azure, the caller gets 202 either way; the failure is in the log.
      this.options.log(`[${fn.metadata.name}] failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return reply(202);
  }
}
