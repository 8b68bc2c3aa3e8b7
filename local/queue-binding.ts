import type { RpcBindingInfo } from './functions-core-shim.js';
import { QueueServiceClient } from './queue-client.js';
import { resolveSettingReference } from './timer-scheduler.js';

/**
 * What a queue binding (trigger or output) names, resolved as the Functions host resolves it: the
 * queue (`%SETTING%` references, Azure Storage's naming rules) and the storage account of its
 * `connection` app setting.
 */

/** The app setting with the connection string of a binding's `connection` (AzureWebJobsStorage when none is named). */
export function storageConnectionString(connection: unknown, env: Record<string, string | undefined>): string {
  const name = typeof connection === 'string' && connection.trim() !== '' ? connection.trim() : 'AzureWebJobsStorage';
  const value = env[name] ?? env[`AzureWebJobs${name}`];
  if (value === undefined || value.trim() === '') {
    throw new Error(`The storage connection '${name}' is not an app setting with a connection string (identity-based connections are not supported by the development host)`);
  }
  return value;
}

export function validQueueName(name: string): boolean {
  return /^[a-z0-9](?:[a-z0-9]|-(?!-)){1,61}[a-z0-9]$/.test(name);
}

/** The binding's queue name, settings resolved; an invalid one fails (as the host fails at start). */
export function queueName(binding: RpcBindingInfo, env: Record<string, string | undefined>, functionName: string): string {
  const queue = resolveSettingReference(String(binding.queueName ?? ''), env);
  if (!validQueueName(queue)) throw new Error(`'${queue}' (${functionName}) is not a valid queue name (3-63 lowercase letters, digits and single hyphens)`);
  return queue;
}

/** A client of the account the binding's connection names. */
export function queueClient(binding: RpcBindingInfo, env: Record<string, string | undefined>): QueueServiceClient {
  return new QueueServiceClient(storageConnectionString(binding.connection, env));
}
