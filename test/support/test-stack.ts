import type { TokenCredential } from '@azure/core-auth';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../../shared/clock.js';
import { signRequestHeaders } from '../../shared/auth/hmac-auth.js';
import { readQueueExtension } from '../../local/queue-settings.js';
import { readRoutePrefix, startLocalStack, type LocalStack } from '../../local/stack.js';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

export interface TestStack extends LocalStack {
  logs: string[];
  /**
   * Runs a non-HTTP function now (`POST /admin/functions/{name}`), then waits until the work items it
   * enqueued have been worked off (the queues are empty), on whichever instance.
   */
  runFunction(name: string): Promise<void>;
  management(method: string, path: string, body?: unknown, key?: string): Promise<TestResponse>;
  createResource(name: string, geography: string, extra?: Record<string, unknown>): Promise<ResourceView>;
  /** A request signed with a resource key, as the ACS SDKs sign. */
  signed(options: SignedOptions): Promise<TestResponse>;
}

export interface SignedOptions {
  method: string;
  endpoint: string;
  path: string;
  key: string;
  body?: string | Buffer;
  date?: Date;
  /** Change the body after signing (a tampered request). */
  sendBody?: string | Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface ResourceView {
  id: string;
  name: string;
  geography: string;
  endpoint: string;
  connectionString: string;
  primaryKey: string;
  secondaryKey: string;
  eventPayloads: string;
}

export async function toTestResponse(response: Response): Promise<TestResponse> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the test reads `text`.
  }
  return { status: response.status, headers: response.headers, body, text };
}

/**
 * Settings for a test that counts store requests: the timers that make store requests of their own
 * (the purges, the privacy planner, the outbox republisher, e-mail delivery, SMS and WhatsApp
 * housekeeping, the local blob-event poll) do not run, and identities can be created without the
 * rate limit.
 */
export const QUIET_STORES_ENV: Readonly<Record<string, string>> = {
  // Every scheduled timer, e-mail delivery too: it runs every 30 s and queries every geography, so a
  // counted window that crossed :00 or :30 counted its requests too (seen once in a full run).
  ...SCHEDULED_TIMERS_OFF,
  LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
  RATE_LIMIT_IDENTITY_CREATE: '1000000',
};

/** Starts the real local stack (embedded Cosmos, Azurite, local Event Grid topic, host) on free ports. */
export async function startTestStack(
  options: {
    clock?: Clock;
    env?: Record<string, string>;
    functionsDir?: string;
    credential?: TokenCredential;
    trustedCertificates?: string;
    /** host.json's `extensions.queues` for this stack (the repository's host.json's when absent). */
    queues?: Record<string, unknown>;
    /** How long a queue message stays invisible while its function runs (the host's 600 s by default). */
    processingVisibilitySeconds?: number;
    /**
     * false: no timer fires on its schedule, the chat deletion sweep included; the test runs them itself.
     * Unlike SCHEDULED_TIMERS_OFF, the schedule settings keep their values for what is computed from
     * them (due and missed runs).
     */
    timers?: boolean;
  } = {},
): Promise<TestStack> {
  const logs: string[] = [];
  const managementKey = randomBytes(32).toString('base64url');
  const stack = await startLocalStack({
    env: {
      MANAGEMENT_KEY: managementKey,
      TELEMETRY_HASH_KEY: randomBytes(32).toString('base64url'),
      LOG_LEVEL: process.env.TEST_STACK_LOGS ? 'debug' : 'error',
      // ACS's chat rate limits (10 sends per thread per 10 s) would throttle most tests' set-up; the
      // throttling tests turn them on.
      CHAT_RATE_LIMIT_FACTOR: '0',
      // A resource deletion waits RESOURCE_CACHE_MS (5 s by default) for other instances' caches; a
      // shorter cache keeps the files that delete resources quick. The tests of the cache set their own.
      RESOURCE_CACHE_MS: '500',
      ...options.env,
    },
    functionsDir: options.functionsDir ?? join(repoRoot, 'functions'),
    certDir: join(tmpdir(), `acs-residency-test-certs-${process.pid}`),
    routePrefix: await readRoutePrefix(join(repoRoot, 'host.json')),
    ports: { http: 0, https: 0, cosmos: 0, blob: 0, queue: 0, eventGrid: 0 },
    queues: options.queues ?? (await readQueueExtension(join(repoRoot, 'host.json'))),
    clock: options.clock,
    credential: options.credential,
    trustedCertificates: options.trustedCertificates,
    ...(options.processingVisibilitySeconds ? { processingVisibilitySeconds: options.processingVisibilitySeconds } : {}),
    timers: options.timers,
    log: (line) => {
      logs.push(line);
      if (process.env.TEST_STACK_LOGS) console.log(line);
    },
  });

  const management = async (method: string, path: string, body?: unknown, key = managementKey) =>
    toTestResponse(
      await fetch(`${stack.httpUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    );

  return {
    ...stack,
    logs,
    runFunction: async (name) => {
      const response = await fetch(`${stack.httpUrl}/admin/functions/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (response.status !== 202) throw new Error(`run ${name}: ${response.status}`);
      await stack.idle();
    },
    management,
    createResource: async (name, geography, extra = {}) => {
      const response = await management('PUT', `/api/management/resources/${name}`, { geography, ...extra });
      if (response.status !== 201 && response.status !== 200) throw new Error(`create ${name}: ${response.status} ${response.text}`);
      return response.body as ResourceView;
    },
    signed: async (o) => {
      // Dial the plain-HTTP listener, with the resource chosen by the endpoint's query, as an SDK would.
      const endpoint = new URL(o.endpoint);
      const url = new URL(o.path, stack.httpUrl);
      for (const [k, v] of endpoint.searchParams) url.searchParams.set(k, v);
      const headers = signRequestHeaders({ method: o.method, url: url.toString(), body: o.body ?? '', key: o.key, date: o.date });
      const sent = o.sendBody ?? o.body;
      return toTestResponse(
        await fetch(url, {
          method: o.method,
          headers: { ...headers, ...(sent !== undefined ? { 'content-type': o.contentType ?? 'application/json' } : {}), ...o.headers },
          body: sent,
        }),
      );
    },
  };
}
