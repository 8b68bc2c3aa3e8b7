import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The key every Cosmos emulator accepts (cosmosdb-server checks none, but the client needs one). */
export const COSMOS_EMULATOR_KEY = 'C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==';

export interface EmbeddedCosmos {
  endpoint: string;
  key: string;
  stop(): Promise<void>;
}

/**
 * `@vercel/cosmosdb-server` on loopback, in memory: the real `@azure/cosmos` client talks to it over
 * HTTP. Its gaps (no TTL, change feed, stored procedures, atomic batch, ...) are designed around.
 */
export async function startEmbeddedCosmos(port: number): Promise<EmbeddedCosmos> {
  const { createHttpServer } = await import('@vercel/cosmosdb-server');
  const server = createHttpServer({ keepAlive: true }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${actual}/`,
    key: COSMOS_EMULATOR_KEY,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
