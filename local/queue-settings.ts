import { readFile } from 'node:fs/promises';

/**
 * The queue trigger settings of host.json (`extensions.queues`), with the Functions host's
 * defaults and limits (Azure Queue storage trigger, host.json settings, extension 5.x).
 */
export interface QueueSettings {
  /** Messages fetched per poll (1–32; default 16). */
  batchSize: number;
  /** A new batch is fetched once the messages in progress are down to this many (default batchSize / 2). */
  newBatchThreshold: number;
  /** The longest wait between polls when the queue stays empty, in ms (default 1 minute, at least 100 ms). */
  maxPollingIntervalMs: number;
  /** How long a failed message stays invisible before it is retried, in ms (default 0). */
  visibilityTimeoutMs: number;
  /** Attempts before a message moves to the poison queue (default 5). */
  maxDequeueCount: number;
  /** How message text is encoded: base64 (default) or none. */
  messageEncoding: 'base64' | 'none';
}

/** The host's shortest polling interval (and its wait after a poll that found messages). */
export const MIN_POLLING_INTERVAL_MS = 100;

/** Parses a .NET TimeSpan (`[d.]hh:mm:ss[.fffffff]`) into milliseconds. */
export function parseTimeSpan(value: string): number {
  const match = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value.trim());
  if (!match) throw new Error(`'${value}' is not a TimeSpan (hh:mm:ss[.fff])`);
  const [, days, hours, minutes, seconds, fraction] = match;
  const ms = ((Number(days ?? 0) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 + Number(seconds) * 1000;
  return ms + (fraction ? Math.round(Number(`0.${fraction}`) * 1000) : 0);
}

const duration = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return value; // the host also reads a number of milliseconds
  if (typeof value === 'string') return parseTimeSpan(value);
  throw new Error(`host.json extensions.queues.${name} must be a TimeSpan string`);
};

const integer = (value: unknown, name: string, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`host.json extensions.queues.${name} must be an integer from ${min} to ${max}`);
  }
  return value;
};

/** The settings from host.json's `extensions.queues` object (property names are case-insensitive, as in the host). */
export function queueSettings(raw: Record<string, unknown> = {}): QueueSettings {
  const get = (name: string) => Object.entries(raw).find(([key]) => key.toLowerCase() === name.toLowerCase())?.[1];
  const batchSize = integer(get('batchSize'), 'batchSize', 1, 32) ?? 16;
  const maxPolling = duration(get('maxPollingInterval'), 'maxPollingInterval') ?? 60_000;
  if (maxPolling < MIN_POLLING_INTERVAL_MS) throw new Error(`host.json extensions.queues.maxPollingInterval must be at least ${MIN_POLLING_INTERVAL_MS} ms`);
  const visibility = duration(get('visibilityTimeout'), 'visibilityTimeout') ?? 0;
  if (visibility < 0 || visibility > 7 * 24 * 3600_000) throw new Error('host.json extensions.queues.visibilityTimeout must be from 0 to 7 days');
  const encoding = String(get('messageEncoding') ?? 'base64').toLowerCase();
  if (encoding !== 'base64' && encoding !== 'none') throw new Error(`host.json extensions.queues.messageEncoding must be base64 or none`);
  return {
    batchSize,
    newBatchThreshold: integer(get('newBatchThreshold'), 'newBatchThreshold', 0, 1000) ?? Math.floor(batchSize / 2),
    maxPollingIntervalMs: maxPolling,
    visibilityTimeoutMs: visibility,
    maxDequeueCount: integer(get('maxDequeueCount'), 'maxDequeueCount', 1, 1_000_000) ?? 5,
    messageEncoding: encoding,
  };
}

/** host.json's `extensions.queues` object (empty when absent). */
export async function readQueueExtension(hostJsonPath: string): Promise<Record<string, unknown>> {
  const hostJson = JSON.parse(await readFile(hostJsonPath, 'utf8')) as { extensions?: { queues?: Record<string, unknown> } };
  return hostJson.extensions?.queues ?? {};
}
