import { createRequire } from 'node:module';

/** Azurite's well-known development account. */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface EmbeddedBlob {
  connectionString: string;
  stop(): Promise<void>;
}

interface BlobServerLike {
  start(): Promise<void>;
  close(): Promise<void>;
  clean(): Promise<void>;
  getHttpServerAddress(): string;
}

/**
 * Azurite's blob service, in this process, on loopback, in memory (or persisted to `location`).
 * Telemetry is never initialised (only Azurite's own CLI entry does that), which is the
 * equivalent of `--disableTelemetry`.
 */
export async function startEmbeddedBlob(port: number, location?: string): Promise<EmbeddedBlob> {
  const require = createRequire(import.meta.url);
  const BlobServer = (require('azurite/dist/src/blob/BlobServer.js') as { default: new (config: unknown) => BlobServerLike }).default;
  const BlobConfiguration = (require('azurite/dist/src/blob/BlobConfiguration.js') as { default: new (...args: unknown[]) => unknown }).default;
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
    '',
    '',
    '',
    undefined,
    false,
    inMemory,
  );
  const server = new BlobServer(config);
  await server.start();
  const address = server.getHttpServerAddress();
  const actualPort = Number(new URL(address).port);
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
      `BlobEndpoint=http://127.0.0.1:${actualPort}/${AZURITE_ACCOUNT};`,
    stop: async () => {
      await server.close();
      if (inMemory) await server.clean();
    },
  };
}
