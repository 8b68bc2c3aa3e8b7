import http, { type RequestListener, type Server } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TlsMaterial } from './tls-certificate.js';

/**
 * Listens on the loopback addresses only (127.0.0.1, and ::1 where the machine has IPv6), so that
 * `localhost` works whichever address a client resolves it to, and nothing is exposed beyond
 * this machine. Port 0 picks a free port (the IPv6 listener then takes the same one).
 */
export interface LoopbackListener {
  port: number;
  close(): Promise<void>;
}

export async function listenLoopback(handler: RequestListener, port: number, tls?: TlsMaterial): Promise<LoopbackListener> {
  const make = (): Server => (tls ? https.createServer({ key: tls.key, cert: tls.cert }, handler) : http.createServer(handler));
  const v4 = make();
  await listen(v4, port, '127.0.0.1');
  const actualPort = (v4.address() as AddressInfo).port;
  const servers = [v4];
  const v6 = make();
  try {
    await listen(v6, actualPort, '::1');
    servers.push(v6);
  } catch {
    // No IPv6 loopback here (or the port is taken on it): IPv4 alone serves.
  }
  for (const server of servers) server.keepAliveTimeout = 5_000;
  return {
    port: actualPort,
    close: () =>
      Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve());
              server.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
