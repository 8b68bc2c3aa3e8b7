import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import type { Container } from '@azure/cosmos';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readQueueExtension } from '../local/queue-settings.js';
import { readRoutePrefix, startLocalStack, type LocalStack } from '../local/stack.js';
import type { Clock } from '../shared/clock.js';
import { SCHEDULED_TIMERS_OFF } from '../shared/timer-schedules.js';

/** The built app on the embedded local stack, on free ports, for benchmarks. */
export const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');

export async function startBenchStack(env: Record<string, string> = {}, options: { blobLocation?: string; clock?: Clock; cosmosLatencyMs?: number } = {}): Promise<LocalStack> {
  return startLocalStack({
    blobLocation: options.blobLocation,
    clock: options.clock,
    cosmosLatencyMs: options.cosmosLatencyMs,
    env: {
      MANAGEMENT_KEY: randomBytes(32).toString('base64url'),
      TELEMETRY_HASH_KEY: randomBytes(32).toString('base64url'),
      LOG_LEVEL: 'error',
      // The benchmarks measure throughput: ACS's chat rate limits would cap it at 10 sends per thread per 10 s.
      CHAT_RATE_LIMIT_FACTOR: '0',
      ...env,
    },
    functionsDir: join(repoRoot, 'dist', 'functions'),
    certDir: join(tmpdir(), `acs-residency-bench-certs-${process.pid}`),
    routePrefix: await readRoutePrefix(join(repoRoot, 'host.json')),
    // The queue triggers as host.json sets them for Azure.
    queues: await readQueueExtension(join(repoRoot, 'host.json')),
    ports: { http: 0, https: 0, cosmos: 0, blob: 0, eventGrid: 0 },
    log: () => undefined,
  });
}

/**
 * Settings that keep the timers whose store requests would be counted with a benchmark's own (every
 * scheduled timer: the outbox republisher every 30 s, the privacy worker, the purges, e-mail
 * delivery, housekeeping) from running; the chat deletion sweep (every 5 minutes, a query per
 * geography) still runs. Every suite's stack gets them: a timer reads its
 * schedule once per process, when the first stack loads the functions.
 */
export const TIMERS_OFF: Readonly<Record<string, string>> = SCHEDULED_TIMERS_OFF;

export async function createResource(stack: LocalStack, name: string, geography: string): Promise<{ connectionString: string; name: string }> {
  const response = await fetch(`${stack.httpUrl}/api/management/resources/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ geography }),
  });
  if (!response.ok) throw new Error(`create ${name}: ${response.status}`);
  return (await response.json()) as { connectionString: string; name: string };
}

/** Runs `task` `total` times with `concurrency` workers; returns per-call latencies (ms) and wall time. */
export async function measure(total: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<{ latencies: number[]; wallMs: number }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t = performance.now();
        await task(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { latencies, wallMs: performance.now() - started };
}

export function summarize(label: string, result: { latencies: number[]; wallMs: number }): string {
  const sorted = [...result.latencies].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(2);
  const rate = (sorted.length / result.wallMs) * 1000;
  return `${label.padEnd(58)} ${String(sorted.length).padStart(6)} ops  ${rate.toFixed(0).padStart(7)}/s  p50 ${pct(50).padStart(7)} ms  p99 ${pct(99).padStart(7)} ms`;
}

/** Seeds items straight into the embedded Cosmos store with the real client, 32 writes at a time. */
export async function writeAll(items: { container: Container; item: Record<string, unknown> }[]): Promise<number> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < items.length) {
        const { container, item } = items[next++]!;
        await container.items.create(item);
      }
    }),
  );
  return items.length;
}

/**
 * Options for an official SDK client that trust the stack's development certificate and keep up to
 * 64 connections (one agent per call of this function).
 */
export function sdkOptions(stack: LocalStack) {
  const agent = new Agent({ ca: stack.tls.cert, keepAlive: true, maxSockets: 64 });
  return { additionalPolicies: [{ position: 'perCall' as const, policy: { name: 'ca', sendRequest: (r: any, next: any) => ((r.agent = agent), next(r)) } }] };
}
