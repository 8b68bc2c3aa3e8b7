import type { EventEmitter } from 'node:events';
import type { TlsMaterial } from '../tls-certificate.js';
import { skipEmptyLokiRemovals } from './azurite-lokijs.js';
import { requireAzurite } from './azurite-modules.js';
import { recordBlobRequests, type BlobRequestRecord } from './azurite-requests.js';
import { installStageBlockFromUrl, trustCopySourceOrigin } from './azurite-stage-from-url.js';

/** Azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedBlob {
  /** Shared-key connection string (Azurite accepts its account key whatever else it accepts). */
  connectionString: string;
  /** The account's blob endpoint, `http(s)://127.0.0.1:<port>/devstoreaccount1` (for keyless access). */
  accountUrl: string;
  /** The requests received so far (the newest 10 000 at least), with how each was authorized (live list). */
  requests: BlobRequestRecord[];
  stop(): Promise<void>;
}

export interface EmbeddedBlobOptions {
  /** Persist blobs here instead of in memory. */
  location?: string;
  /**
   * Serve HTTPS with this certificate and accept Microsoft Entra bearer tokens (Azurite's
   * `--oauth basic`: audience, issuer and lifetime are checked, signatures are not). Azurite refuses
   * bearer tokens over plain HTTP.
   */
  tls?: TlsMaterial;
}

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
  httpServer: EventEmitter;
}

/**
 * Azurite's blob service, in this process, on loopback, in memory (or persisted to `location`).
 * Telemetry is never initialised (only Azurite's own CLI entry does that), which is the
 * equivalent of `--disableTelemetry`, nor loaded (azurite-modules.ts). Put Block From URL, which Azurite lacks, is added
 * (azurite-stage-from-url.ts); removals of nothing cost nothing (azurite-lokijs.ts).
 */
export async function startEmbeddedBlob(port: number, options: EmbeddedBlobOptions = {}): Promise<EmbeddedBlob> {
  const BlobServer = requireAzurite<{ default: new (config: unknown) => BlobServerLike }>('azurite/dist/src/blob/BlobServer.js').default;
  const BlobConfiguration = requireAzurite<{ default: new (...args: unknown[]) => unknown }>('azurite/dist/src/blob/BlobConfiguration.js').default;
  installStageBlockFromUrl();
  skipEmptyLokiRemovals();
  const { location, tls } = options;
  const inMemory = location === undefined;
  const config = new BlobConfiguration(
    '127.0.0.1',
    port,
    5, // keep-alive seconds
    inMemory ? undefined : `${location}/__azurite_db_blob__.json`,
    inMemory ? undefined : `${location}/__azurite_db_blob_extent__.json`,
    inMemory ? undefined : [{ locationId: 'Default', locationPath: `${location}/__blobstorage__`, maxConcurrency: 10 }],
    false, // access log
    undefined,
    false, // debug log
    undefined,
    true, // loose: accept headers Azurite does not know
    true, // skipApiVersionCheck: the SDK may be newer than this Azurite
    tls?.certPath ?? '',
    tls?.keyPath ?? '',
    '',
    tls ? 'basic' : undefined, // --oauth basic
    false,
    inMemory,
  );
  const server = new BlobServer(config);
  const requests = recordBlobRequests(server.httpServer);
  await server.start();
  const address = server.getHttpServerAddress();
  const actualPort = Number(new URL(address).port);
  const protocol = tls ? 'https' : 'http';
  if (tls) trustCopySourceOrigin(`https://127.0.0.1:${actualPort}`, tls.cert);
  const accountUrl = `${protocol}://127.0.0.1:${actualPort}/${AZURITE_ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=${accountUrl};`,
    accountUrl,
    requests,
    stop: async () => {
      await server.close();
      if (inMemory) await server.clean();
    },
  };
}
