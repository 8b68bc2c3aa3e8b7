import { randomBytes } from 'node:crypto';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient, type StoragePipelineOptions } from '@azure/storage-blob';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { startEmbeddedQueue, type EmbeddedQueue } from '../../local/emulators/azurite-queue.js';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { LocalEventGridTopic } from '../../local/eventgrid-topic/topic-server.js';
import { loadOrCreateCertificate, type TlsMaterial } from '../../local/tls-certificate.js';
import { EmulatorCredential } from './emulator-credential.js';

/**
 * Stores that take Microsoft Entra tokens only as far as the app is concerned: embedded Cosmos,
 * Azurite (`--oauth basic`) and the local Event Grid topic, all over HTTPS with one self-signed
 * certificate. The app gets their endpoints and no key (`settings`), and `appCredential`; the test
 * reads what they hold through `inspector` clients with a credential of its own, so the emulators'
 * records tell the app's requests (tokens `appCredential` minted) from the test's.
 */
export interface KeylessStores {
  tls: TlsMaterial;
  cosmos: EmbeddedCosmos;
  blob: EmbeddedBlob;
  /** The Functions host's storage (work queues), reached with the identity: AzureWebJobsStorage__queueServiceUri. */
  queue: EmbeddedQueue;
  topic: LocalEventGridTopic;
  appCredential: EmulatorCredential;
  /** App settings: endpoints and account URL, no key, no connection string. */
  settings: Record<string, string>;
  inspector: { credential: EmulatorCredential; cosmos: CosmosClient; blobs: BlobServiceClient };
  stop(): Promise<void>;
}

export async function startKeylessStores(): Promise<KeylessStores> {
  const tls = await loadOrCreateCertificate(join(tmpdir(), `acs-residency-keyless-certs-${process.pid}`));
  const [cosmos, blob, queue] = await Promise.all([startEmbeddedCosmos(0, { tls }), startEmbeddedBlob(0, { tls }), startEmbeddedQueue(0, { tls })]);
  // The topic has a key (the emulator requires one) that nobody is given: the app must use its token.
  const topic = new LocalEventGridTopic({ key: randomBytes(32).toString('base64'), tls });
  await topic.start();
  const ca = [...rootCertificates, tls.cert];
  const inspectorCredential = new EmulatorCredential();
  const inspector = {
    credential: inspectorCredential,
    cosmos: new CosmosClient({
      endpoint: cosmos.endpoint,
      aadCredentials: inspectorCredential,
      agent: new Agent({ ca }),
      connectionPolicy: { enableEndpointDiscovery: false },
    }),
    blobs: new BlobServiceClient(blob.accountUrl, inspectorCredential, { tlsOptions: { ca } } as StoragePipelineOptions),
  };
  return {
    tls,
    cosmos,
    blob,
    queue,
    topic,
    appCredential: new EmulatorCredential(),
    settings: { COSMOS_ENDPOINT: cosmos.endpoint, STORAGE_ACCOUNT_URL: blob.accountUrl, EVENTGRID_TOPIC_ENDPOINT: topic.endpoint, AzureWebJobsStorage__queueServiceUri: queue.accountUrl },
    inspector,
    stop: async () => {
      inspector.cosmos.dispose();
      await topic.stop();
      topic.dispose();
      await cosmos.stop();
      await blob.stop();
      await queue.stop();
    },
  };
}
