import { createHash } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';

/**
 * What an Azure storage account's Event Grid system topic does for the landing containers, which
 * Azurite cannot do: it watches the containers whose names end in `-recording-landing` and delivers
 * `Microsoft.Storage.BlobCreated` (Event Grid schema) to the host's Event Grid webhook for each new
 * blob version (name and ETag), as a subscription with that subject filter would. A delivery that is
 * not acknowledged (a non-2xx answer) is retried on the next poll, as Event Grid retries.
 */
export interface BlobCreatedFeedOptions {
  storageConnectionString: string;
  /** The webhook, e.g. `http://localhost:7071/runtime/webhooks/eventgrid?functionName=recordingLanding`. */
  webhookUrl: string;
  containerSuffix: string;
  pollMs: number;
  log: (line: string) => void;
}

export class BlobCreatedFeed {
  readonly #delivered = new Set<string>();
  #timer?: NodeJS.Timeout;
  #polling?: Promise<number>;
  readonly #service: BlobServiceClient;

  constructor(private readonly options: BlobCreatedFeedOptions) {
    this.#service = BlobServiceClient.fromConnectionString(options.storageConnectionString);
  }

  start(): void {
    const tick = () => {
      void this.poll()
        .catch((error: unknown) => this.options.log(`[blob-events] poll failed: ${error instanceof Error ? error.message : String(error)}`))
        .finally(() => {
          if (this.#timer) this.#timer = setTimeout(tick, this.options.pollMs);
        });
    };
    this.#timer = setTimeout(tick, this.options.pollMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#polling?.catch(() => undefined);
  }

  /** Looks for new blobs now and delivers their events; returns how many were delivered. */
  poll(): Promise<number> {
    this.#polling ??= this.#poll().finally(() => (this.#polling = undefined));
    return this.#polling;
  }

  async #poll(): Promise<number> {
    let delivered = 0;
    const present = new Set<string>();
    for await (const container of this.#service.listContainers()) {
      if (!container.name.endsWith(this.options.containerSuffix)) continue;
      const client = this.#service.getContainerClient(container.name);
      for await (const blob of client.listBlobsFlat()) {
        const etag = blob.properties.etag ?? '';
        const key = `${container.name}/${blob.name}|${etag}`;
        present.add(key);
        if (this.#delivered.has(key)) continue;
        const url = client.getBlobClient(blob.name).url;
        const event = {
          id: uuidFrom(key),
          topic: `/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/${this.#service.accountName}`,
          subject: `/blobServices/default/containers/${container.name}/blobs/${blob.name}`,
          eventType: 'Microsoft.Storage.BlobCreated',
          eventTime: (blob.properties.lastModified ?? new Date()).toISOString(),
          data: {
            api: 'PutBlob',
            eTag: etag,
            contentType: blob.properties.contentType,
            contentLength: blob.properties.contentLength,
            blobType: 'BlockBlob',
            url,
            sequencer: Date.now().toString(16).padStart(32, '0'),
          },
          dataVersion: '',
          metadataVersion: '1',
        };
        const response = await fetch(this.options.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
          body: JSON.stringify([event]),
        }).catch(() => undefined);
        if (response?.ok) {
          this.#delivered.add(key);
          delivered += 1;
        } else {
          this.options.log(`[blob-events] delivery to the webhook answered ${response?.status ?? 'nothing'}; retrying on the next poll`);
        }
      }
    }
    // Forget blobs that are gone (ingested files are removed from the landing container).
    for (const key of this.#delivered) if (!present.has(key)) this.#delivered.delete(key);
    return delivered;
  }
}

function uuidFrom(key: string): string {
  const hex = createHash('sha256').update(key).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
