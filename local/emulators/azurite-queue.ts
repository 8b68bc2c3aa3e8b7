import type { TlsMaterial } from '../tls-certificate.js';
import type { EventEmitter } from 'node:events';
import { AZURITE_ACCOUNT, AZURITE_KEY } from './azurite-blob.js';
import { skipEmptyLokiRemovals } from './azurite-lokijs.js';
import { requireAzurite } from './azurite-modules.js';
import { recordBlobRequests, type BlobRequestRecord } from './azurite-requests.js';

/**
 * Azurite's queue service, in this process, on loopback, in memory: the real queue service the
 * development host's queue triggers poll (the same REST API and semantics as Azure Storage queues:
 * visibility timeouts, pop receipts, dequeue counts). Telemetry is never initialised, nor loaded (azurite-modules.ts);
 * removals of nothing cost nothing (azurite-lokijs.ts).
 */
export interface EmbeddedQueueOptions {
  /**
   * Serve HTTPS with this certificate and accept Microsoft Entra bearer tokens (Azurite's
   * `--oauth basic`), for identity-based connections (`AzureWebJobsStorage__queueServiceUri`).
   */
  tls?: TlsMaterial;
}

export interface EmbeddedQueue {
  /** The account's queue endpoint, `http(s)://127.0.0.1:<port>/devstoreaccount1`. */
  accountUrl: string;
  /** Shared-key connection string with only the QueueEndpoint. */
  connectionString: string;
  /** The requests received so far, with how each was authorized (live list). */
  requests: BlobRequestRecord[];
  stop(): Promise<void>;
}

interface QueueServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
  httpServer: EventEmitter;
}

export async function startEmbeddedQueue(port: number, options: EmbeddedQueueOptions = {}): Promise<EmbeddedQueue> {
  const { tls } = options;
  skipEmptyLokiRemovals();
  const QueueServer = requireAzurite<{ default: new (config: unknown) => QueueServerLike }>('azurite/dist/src/queue/QueueServer.js').default;
  const QueueConfiguration = requireAzurite<{ default: new (...args: unknown[]) => unknown }>('azurite/dist/src/queue/QueueConfiguration.js').default;
  const { MemoryExtentChunkStore } = requireAzurite<{ MemoryExtentChunkStore: new (sizeLimit?: number) => unknown }>('azurite/dist/src/common/persistence/MemoryExtentStore.js');
  const config = new QueueConfiguration(
    '127.0.0.1',
    port,
    5, // keep-alive seconds
    undefined, // metadata DB path (in memory)
    undefined, // extent DB path (in memory)
    undefined, // persistence locations (in memory)
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose: accept headers Azurite does not know
    true, // skipApiVersionCheck
    tls?.certPath ?? '',
    tls?.keyPath ?? '',
    '',
    tls ? 'basic' : undefined, // --oauth basic
    false, // product-style URLs stay enabled
    true, // in memory
    // Message texts in a store of this server's own (Azurite's default is one per process, which a
    // second server's clean() would empty); 64 KiB messages make 256 MiB a generous cap.
    new MemoryExtentChunkStore(256 * 1024 * 1024),
  );
  const server = new QueueServer(config);
  const requests = recordBlobRequests(server.httpServer);
  await server.start();
  const actualPort = Number(new URL(server.getHttpServerAddress()).port);
  const protocol = tls ? 'https' : 'http';
  const accountUrl = `${protocol}://127.0.0.1:${actualPort}/${AZURITE_ACCOUNT}`;
  return {
    accountUrl,
    requests,
    connectionString: `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};QueueEndpoint=${accountUrl};`,
    stop: async () => {
      await server.close();
      await server.clean();
    },
  };
}
