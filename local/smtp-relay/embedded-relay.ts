import { randomBytes } from 'node:crypto';
import { startRelayHttp } from './relay-http.js';
import { SmtpRelayServer, type FailureRule } from './relay-server.js';
import { viewOf, type ReceivedMailView } from './received-mail.js';

/**
 * The embedded relay as the local stack starts it: the SMTP server (TLS and AUTH required) on one
 * loopback port and its HTTP API on another, with a generated password. `settings` are the app
 * settings that point a geography (suffix `__EUROPE`) or every geography (no suffix) at it.
 */
export interface EmbeddedSmtpRelay {
  server: SmtpRelayServer;
  smtpPort: number;
  httpUrl: string;
  user: string;
  password: string;
  settings(suffix?: string): Record<string, string>;
  /** The messages received so far, parsed (optionally only those whose envelope names `to`). */
  messages(to?: string): Promise<ReceivedMailView[]>;
  fail(address: string, rule: FailureRule): void;
  stop(): Promise<void>;
}

export async function startSmtpRelay(options: { tls: { key: string; cert: string }; port?: number; httpPort?: number; implicitTls?: boolean; user?: string; withoutStartTls?: boolean }): Promise<EmbeddedSmtpRelay> {
  const user = options.user ?? 'relay-user';
  const password = randomBytes(18).toString('base64url');
  const server = new SmtpRelayServer({ tls: options.tls, user, password, port: options.port ?? 0, implicitTls: options.implicitTls ?? false, withoutStartTls: options.withoutStartTls ?? false });
  await server.start();
  let http: Awaited<ReturnType<typeof startRelayHttp>>;
  try {
    http = await startRelayHttp(server, options.httpPort ?? 0);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return {
    server,
    smtpPort: server.port,
    httpUrl: http.url,
    user,
    password,
    settings: (suffix = '') => ({
      [`SMTP_HOST${suffix}`]: 'localhost',
      [`SMTP_PORT${suffix}`]: String(server.port),
      [`SMTP_TLS${suffix}`]: server.implicitTls ? 'implicit' : 'starttls',
      [`SMTP_USER${suffix}`]: user,
      [`SMTP_PASSWORD${suffix}`]: password,
    }),
    messages: async (to) => Promise.all(server.received.filter((m) => !to || m.envelope.rcptTo.some((r) => r.toLowerCase() === to.toLowerCase())).map(viewOf)),
    fail: (address, rule) => server.failures.set(address.toLowerCase(), { ...rule }),
    stop: async () => {
      await http.stop();
      await server.stop();
    },
  };
}
