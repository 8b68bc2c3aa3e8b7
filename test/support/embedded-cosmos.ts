import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll } from 'vitest';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';

/**
 * The embedded Cosmos server alone, for a file that tests a store adapter without a stack: started
 * before the file's tests and stopped after them, with one client for it.
 */
export function useEmbeddedCosmos(): { emulator: () => EmbeddedCosmos; client: () => CosmosClient } {
  let emulator: EmbeddedCosmos | undefined;
  let client: CosmosClient | undefined;
  beforeAll(async () => {
    emulator = await startEmbeddedCosmos(0);
    client = new CosmosClient({ endpoint: emulator.endpoint, key: emulator.key, connectionPolicy: { enableEndpointDiscovery: false } });
  });
  afterAll(async () => {
    client?.dispose();
    await emulator?.stop();
  });
  return { emulator: () => emulator!, client: () => client! };
}
