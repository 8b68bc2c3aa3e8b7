import type { TokenCredential } from '@azure/core-auth';
import type { RpcBindingInfo } from './functions-core-shim.js';
import { QueueServiceClient } from './queue-client.js';
import { resolveSettingReference } from './timer-scheduler.js';

/**
 * What a queue binding (trigger or output) names, resolved as the Functions host resolves it: the
 * queue (`%SETTING%` references, Azure Storage's naming rules) and the storage account of its
 * `connection`: an app setting with a connection string, or, identity-based, the settings
 * `<connection>__queueServiceUri` (or `__accountName`) with `__credential` / `__clientId`.
 */

/** How the development host reaches an identity-based connection: the credential (per client id) and extra trusted certificates. */
export interface QueueIdentityAccess {
  credential(clientId: string | undefined): TokenCredential;
  ca?: string[];
}

export type QueueConnection = { connectionString: string } | { queueServiceUri: string; clientId?: string };

/** The account a binding's `connection` names (AzureWebJobsStorage when none is named). */
export function queueConnection(connection: unknown, env: Record<string, string | undefined>): QueueConnection {
  const name = typeof connection === 'string' && connection.trim() !== '' ? connection.trim() : 'AzureWebJobsStorage';
  const setting = (suffix: string) => {
    for (const candidate of [name, `AzureWebJobs${name}`]) {
      const value = env[`${candidate}${suffix}`];
      if (value !== undefined && value.trim() !== '') return value.trim();
    }
    return undefined;
  };
  const connectionString = setting('');
  if (connectionString) return { connectionString };
  const accountName = setting('__accountName');
  const queueServiceUri = setting('__queueServiceUri') ?? (accountName ? `https://${accountName}.queue.core.windows.net` : undefined);
  if (queueServiceUri) {
    const clientId = setting('__clientId');
    return { queueServiceUri, ...(clientId ? { clientId } : {}) };
  }
  throw new Error(`The storage connection '${name}' is neither an app setting with a connection string nor an identity-based connection ('${name}__queueServiceUri')`);
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
export function queueClient(binding: RpcBindingInfo, env: Record<string, string | undefined>, identity?: QueueIdentityAccess): QueueServiceClient {
  const connection = queueConnection(binding.connection, env);
  if ('connectionString' in connection) return new QueueServiceClient(connection.connectionString);
  if (!identity) throw new Error(`The identity-based storage connection '${connection.queueServiceUri}' needs a credential`);
  return new QueueServiceClient({ queueServiceUri: connection.queueServiceUri, credential: identity.credential(connection.clientId), ...(identity.ca ? { ca: identity.ca } : {}) });
}
