import { randomBytes } from 'node:crypto';
import { parseEnabledGeographies } from '../../shared/config/strict-residency.js';
import { LocalSmsc } from './smsc.js';
import { SmscHttpApi } from './smsc-http.js';

/**
 * The embedded SMSC as the local stack runs it: one SMSC (SMPP on `port`, its HTTP API on
 * `httpPort`) serving every enabled geography as that geography's `default` carrier, each with an
 * account of its own (system id = the geography key, at most 15 characters; a random password), so
 * what a European resource sends arrives on the Europe account. The SMPP_* settings of each
 * geography are written into `env` for the app.
 *
 *   LOCAL_SMSC_RECEIPT_DELAY_MS     delay before a delivery receipt (default 200)
 *   LOCAL_SMSC_FAILING_NUMBERS      comma-separated numbers whose deliveries fail
 */
export interface EmbeddedSmsc {
  server: LocalSmsc;
  api: SmscHttpApi;
  /** The HTTP API's origin (`GET {url}/api/messages`, ...). */
  url: string;
  /** The account of each geography (key -> system id). */
  systemIds: Map<string, string>;
  stop(): Promise<void>;
}

export async function startEmbeddedSmsc(
  env: Record<string, string | undefined>,
  options: { port: number; httpPort: number; log?: (line: string) => void },
): Promise<EmbeddedSmsc> {
  const geographies = parseEnabledGeographies(env.ENABLED_GEOGRAPHIES?.trim() ? env.ENABLED_GEOGRAPHIES : undefined).keys;
  const accounts = geographies.map((key) => ({ geography: key, systemId: key.slice(0, 15), password: randomBytes(6).toString('base64url').slice(0, 8) }));
  const server = new LocalSmsc({
    accounts,
    port: options.port,
    receiptDelayMs: Number(env.LOCAL_SMSC_RECEIPT_DELAY_MS || 200),
    failingNumbers: (env.LOCAL_SMSC_FAILING_NUMBERS ?? '').split(',').map((n) => n.trim()).filter((n) => n !== ''),
    ...(options.log ? { log: options.log } : {}),
  });
  await server.start();
  const api = new SmscHttpApi(server, options.httpPort);
  try {
    await api.start();
  } catch (error) {
    await server.stop();
    throw error;
  }
  for (const account of accounts) {
    const suffix = `__${account.geography.toUpperCase()}`;
    env[`SMPP_HOST${suffix}`] = '127.0.0.1';
    env[`SMPP_PORT${suffix}`] = String(server.port);
    env[`SMPP_SYSTEM_ID${suffix}`] = account.systemId;
    env[`SMPP_PASSWORD${suffix}`] = account.password;
  }
  return {
    server,
    api,
    url: api.url,
    systemIds: new Map(accounts.map((a) => [a.geography, a.systemId])),
    stop: async () => {
      await api.stop();
      await server.stop();
    },
  };
}
