import type { TokenCredential } from '@azure/core-auth';
import { connectionStringParts } from '../shared/config/connection-string.js';
import type { QueueClient, QueueServiceClient as SdkQueueServiceClient, StoragePipelineOptions } from '@azure/storage-queue';

/**
 * The queue operations the development host's queue triggers and outputs need, on the official
 * `@azure/storage-queue` client (loaded on first use). Connection strings as the Functions host reads
 * them (`AccountName`, `AccountKey` and `QueueEndpoint`, or `DefaultEndpointsProtocol` + `EndpointSuffix`),
 * or, identity-based, the account's queue endpoint and a Microsoft Entra credential; Azurite and
 * Azure answer alike.
 */

/** An identity-based connection: the queue endpoint, the credential, and extra certificate authorities (an HTTPS emulator's). */
export interface QueueIdentityConnection {
  queueServiceUri: string;
  credential: TokenCredential;
  ca?: string[];
}
export interface QueueMessage {
  id: string;
  popReceipt: string;
  /** The message text as stored (base64 when the sender encoded it so). */
  text: string;
  dequeueCount: number;
  insertionTime: Date;
  expirationTime: Date;
  nextVisibleTime: Date;
}

/** A failed queue operation: the service's status and error code, no request details. */
export class QueueRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    operation: string,
  ) {
    super(`Queue ${operation} failed: ${status} ${code}`);
  }
}

export function parseConnectionString(connectionString: string): { accountUrl: string; account: string } {
  const parts = connectionStringParts(connectionString);
  const account = parts.get('accountname');
  if (!account || !parts.get('accountkey')) throw new Error('The storage connection string has no AccountName and AccountKey (keyless queue access is not supported by the development host)');
  const endpoint = parts.get('queueendpoint') ?? `${parts.get('defaultendpointsprotocol') ?? 'https'}://${account}.queue.${parts.get('endpointsuffix') ?? 'core.windows.net'}`;
  return { accountUrl: endpoint.replace(/\/+$/, ''), account };
}

export class QueueServiceClient {
  readonly accountUrl: string;
  readonly #service: Promise<SdkQueueServiceClient>;

  constructor(connection: string | QueueIdentityConnection) {
    if (typeof connection === 'string') {
      this.accountUrl = parseConnectionString(connection).accountUrl;
      this.#service = import('@azure/storage-queue').then(({ QueueServiceClient: Client }) => Client.fromConnectionString(connection));
    } else {
      this.accountUrl = connection.queueServiceUri.replace(/\/+$/, '');
      const options = (connection.ca ? { tlsOptions: { ca: connection.ca } } : {}) as StoragePipelineOptions;
      this.#service = import('@azure/storage-queue').then(({ QueueServiceClient: Client }) => new Client(this.accountUrl, connection.credential, options));
    }
  }

  /** Creates the queue; true when it was created, false when it existed. */
  createQueue(queue: string): Promise<boolean> {
    return this.#call('create queue', queue, async (client) => (await client.createIfNotExists()).succeeded);
  }

  /** The names of the account's queues. */
  async queueNames(): Promise<Set<string>> {
    const names = new Set<string>();
    try {
      for await (const queue of (await this.#service).listQueues()) names.add(queue.name);
    } catch (error) {
      throw asQueueRequestError(error, 'list queues');
    }
    return names;
  }

  /** The approximate number of messages, visible or not. */
  approximateCount(queue: string): Promise<number> {
    return this.#call('get metadata', queue, async (client) => (await client.getProperties()).approximateMessagesCount ?? 0);
  }

  sendMessage(queue: string, text: string, visibilityTimeoutSeconds = 0): Promise<QueueMessage> {
    return this.#call('put message', queue, async (client) => {
      const sent = await client.sendMessage(text, { visibilityTimeout: visibilityTimeoutSeconds });
      return { id: sent.messageId, popReceipt: sent.popReceipt, text, dequeueCount: 0, insertionTime: sent.insertedOn, expirationTime: sent.expiresOn, nextVisibleTime: sent.nextVisibleOn };
    });
  }

  /** Up to `count` (1-32) messages, invisible to others for `visibilityTimeoutSeconds`. */
  receiveMessages(queue: string, count: number, visibilityTimeoutSeconds: number): Promise<QueueMessage[]> {
    return this.#call('get messages', queue, async (client) =>
      (await client.receiveMessages({ numberOfMessages: count, visibilityTimeout: visibilityTimeoutSeconds })).receivedMessageItems.map((m) => ({
        id: m.messageId,
        popReceipt: m.popReceipt,
        text: m.messageText,
        dequeueCount: m.dequeueCount,
        insertionTime: m.insertedOn,
        expirationTime: m.expiresOn,
        nextVisibleTime: m.nextVisibleOn,
      })),
    );
  }

  /** The visible messages, without changing them (no pop receipt). */
  peekMessages(queue: string, count = 32): Promise<QueueMessage[]> {
    return this.#call('peek messages', queue, async (client) =>
      (await client.peekMessages({ numberOfMessages: count })).peekedMessageItems.map((m) => ({
        id: m.messageId,
        popReceipt: '',
        text: m.messageText,
        dequeueCount: m.dequeueCount,
        insertionTime: m.insertedOn,
        expirationTime: m.expiresOn,
        nextVisibleTime: new Date(0),
      })),
    );
  }

  deleteMessage(queue: string, id: string, popReceipt: string): Promise<void> {
    return this.#call('delete message', queue, async (client) => {
      await client.deleteMessage(id, popReceipt);
    });
  }

  /** Changes a message's visibility only; returns the new pop receipt. */
  updateVisibility(queue: string, id: string, popReceipt: string, visibilityTimeoutSeconds: number): Promise<string> {
    return this.#call('update message', queue, async (client) => (await client.updateMessage(id, popReceipt, undefined, visibilityTimeoutSeconds)).popReceipt ?? '');
  }

  async #call<T>(operation: string, queue: string, work: (client: QueueClient) => Promise<T>): Promise<T> {
    const client = (await this.#service).getQueueClient(queue);
    try {
      return await work(client);
    } catch (error) {
      throw asQueueRequestError(error, operation);
    }
  }
}

/** A storage SDK error with a status, as a QueueRequestError naming the operation; anything else as it is. */
function asQueueRequestError(error: unknown, operation: string): unknown {
  const { statusCode, code } = error as { statusCode?: number; code?: string };
  return typeof statusCode === 'number' ? new QueueRequestError(statusCode, code ?? 'Unknown', operation) : error;
}
