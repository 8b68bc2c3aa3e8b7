import type { QueueServiceClient, StoragePipelineOptions } from '@azure/storage-queue';
import { connectionStringParts } from '../config/connection-string.js';
import type { Settings } from '../config/settings.js';
import { ServiceError } from '../errors/service-error.js';
import type { CredentialSource } from '../stores/azure-credential.js';
import type { StoreTls } from '../stores/store-tls.js';
import { WORK_QUEUE_MESSAGE_ENCODING, type WorkQueueName } from './work-queues.js';

/**
 * Sends work items to the work queues of the Functions host's storage account, with the official
 * `@azure/storage-queue` client, created on first use (importing the app stays cheap). Keyless in
 * Azure: `AzureWebJobsStorage__queueServiceUri` and the app's managed identity (Storage Queue Data
 * Contributor); a connection string locally. Text is JSON, base64-encoded as host.json's
 * `messageEncoding` says, and never expires (a backlog may take longer than the 7-day default).
 * With STORE_PROVISIONING=create, a queue is created on its first send; with `verify` the
 * infrastructure has created it.
 */
export interface WorkQueueSenderDeps {
  hostStorage: Settings['hostStorage'];
  createQueues: boolean;
  credential: CredentialSource;
  tls: StoreTls;
}

/** How many sends one `sendAll` keeps in flight. */
const SEND_CONCURRENCY = 32;

export class WorkQueueSender {
  #client?: Promise<QueueServiceClient>;
  readonly #created = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: WorkQueueSenderDeps) {}

  /** Sends one work item. */
  async send(queue: WorkQueueName, item: object): Promise<void> {
    const client = await this.#queue(queue);
    await client.sendMessage(encode(item), { messageTimeToLive: -1 });
  }

  /** Sends every item (up to 32 at a time); resolves with how many were sent, rejects on the first failure. */
  async sendAll(queue: WorkQueueName, items: object[]): Promise<number> {
    const client = await this.#queue(queue);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(SEND_CONCURRENCY, items.length) }, async () => {
        while (next < items.length) {
          const item = items[next++]!;
          await client.sendMessage(encode(item), { messageTimeToLive: -1 });
        }
      }),
    );
    return items.length;
  }

  async #queue(queue: WorkQueueName) {
    const client = (await (this.#client ??= this.#connect())).getQueueClient(queue);
    if (this.deps.createQueues) {
      let created = this.#created.get(queue);
      if (!created) {
        created = client.createIfNotExists();
        this.#created.set(queue, created);
        created.catch(() => this.#created.delete(queue));
      }
      await created;
    }
    return client;
  }

  async #connect(): Promise<QueueServiceClient> {
    const { QueueServiceClient: Client } = await import('@azure/storage-queue');
    // `tlsOptions` reaches the core pipeline (the local stack's HTTPS emulator certificate; never from settings).
    const options = (this.deps.tls.tlsOptions ? { tlsOptions: this.deps.tls.tlsOptions } : {}) as StoragePipelineOptions;
    const { connectionString, queueServiceUri } = this.deps.hostStorage;
    if (connectionString && connectionString !== 'UseDevelopmentStorage=true' && connectionStringParts(connectionString).has('accountkey')) {
      return Client.fromConnectionString(connectionString, options);
    }
    if (queueServiceUri) return new Client(queueServiceUri, await this.deps.credential(), options);
    throw new ServiceError(
      'ServiceUnavailable',
      'The work queues are not configured: set AzureWebJobsStorage (a connection string with an account key) or AzureWebJobsStorage__queueServiceUri (keyless).',
    );
  }
}

function encode(item: object): string {
  const text = JSON.stringify(item);
  return WORK_QUEUE_MESSAGE_ENCODING === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text;
}
