import { createSecureContext, rootCertificates, type ConnectionOptions } from 'node:tls';
import type { Transporter } from 'nodemailer';
import type { SmtpRelay } from './email-settings.js';

/**
 * Delivery to each geography's SMTP relay with nodemailer: one pooled transport per relay, created
 * on first use (nodemailer is imported then, so importing the app stays cheap). TLS is always
 * required (STARTTLS before anything else, or implicit TLS) and certificates are always checked,
 * against Node's authorities plus, only when the local stack passes it in code, the embedded relay's
 * self-signed certificate (`trustedCertificates`, never an app setting). A reply is classified:
 * 2xx after the message is `accepted`; 5xx to RCPT TO is a hard bounce; 5xx to MAIL FROM or to the
 * message is `refused` (the message, not the address); 4xx or no reply at all (connection, TLS,
 * authentication) is `deferred` and retried later.
 */
export type SmtpOutcome =
  | { kind: 'accepted'; code: number; enhanced?: string }
  | { kind: 'bounced'; code: number; enhanced?: string }
  | { kind: 'refused'; code: number; enhanced?: string }
  /** `relay`: the relay could not be used at all (connection, TLS, authentication, MAIL FROM): the other recipients wait too. */
  | { kind: 'deferred'; code?: number; enhanced?: string; scope: 'recipient' | 'relay'; detail: string };

export interface SmtpRelaysDeps {
  relays: Record<string, SmtpRelay>;
  connections: number;
  /** PEM certificate(s) trusted besides Node's authorities: the local stack's, in code only. */
  trustedCertificates?: string;
}

/** The RFC 3463 enhanced status code of a reply (`550 5.1.1 ...` gives 5.1.1). */
export function enhancedCode(reply: string | undefined): string | undefined {
  return reply ? /^\d{3}[ -]([245]\.\d{1,3}\.\d{1,3})\b/.exec(reply)?.[1] : undefined;
}

export function classifySmtpError(error: unknown): SmtpOutcome {
  const { responseCode, command, response, code } = error as { responseCode?: number; command?: string; response?: string; code?: string };
  const enhanced = enhancedCode(response);
  const extra = enhanced ? { enhanced } : {};
  if (typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600) {
    if (command === 'RCPT TO') return { kind: 'bounced', code: responseCode, ...extra };
    if (command === 'DATA' || command === 'MAIL FROM') return { kind: 'refused', code: responseCode, ...extra };
  }
  // 4xx, an authentication or TLS problem, a connection that failed or broke: try again later.
  const detail = `${code ?? 'error'}${command ? ` at ${command}` : ''}${typeof responseCode === 'number' ? ` (${responseCode})` : ''}`;
  const scope = command === 'RCPT TO' || command === 'DATA' ? 'recipient' : 'relay';
  return typeof responseCode === 'number' ? { kind: 'deferred', code: responseCode, ...extra, scope, detail } : { kind: 'deferred', scope, detail };
}

export class SmtpRelays {
  readonly #transports = new Map<string, Promise<Transporter>>();

  constructor(private readonly deps: SmtpRelaysDeps) {}

  /** The relay a geography's mail leaves through, if it has one. */
  relayOf(geographyKey: string): SmtpRelay | undefined {
    return this.deps.relays[geographyKey];
  }

  /** One SMTP transaction: the raw message to one recipient. Never throws for what the relay answers. */
  async send(geographyKey: string, envelope: { from: string; to: string }, raw: Buffer): Promise<SmtpOutcome> {
    try {
      const transport = await this.#transport(geographyKey);
      const info = (await transport.sendMail({ envelope: { from: envelope.from, to: [envelope.to] }, raw })) as { response?: string };
      const code = Number(/^(\d{3})/.exec(info.response ?? '')?.[1] ?? 250);
      const enhanced = enhancedCode(info.response);
      return { kind: 'accepted', code, ...(enhanced ? { enhanced } : {}) };
    } catch (error) {
      return classifySmtpError(error);
    }
  }

  /** Closes the pooled connections. */
  close(): void {
    for (const transport of this.#transports.values()) void transport.then((t) => t.close()).catch(() => undefined);
    this.#transports.clear();
  }

  /**
   * TLS 1.2 or later; with the local stack's certificate, a context with it and the system's
   * authorities, built once per transport (not parsed again for every connection of the pool).
   */
  #tlsOptions(): ConnectionOptions {
    if (!this.deps.trustedCertificates) return { minVersion: 'TLSv1.2' };
    const options: ConnectionOptions = { minVersion: 'TLSv1.2', ca: [...rootCertificates, this.deps.trustedCertificates] };
    return { ...options, secureContext: createSecureContext(options) };
  }

  #transport(geographyKey: string): Promise<Transporter> {
    let transport = this.#transports.get(geographyKey);
    if (!transport) {
      const relay = this.deps.relays[geographyKey];
      if (!relay) return Promise.reject(new Error(`No SMTP relay for ${geographyKey}`));
      transport = import('nodemailer').then(({ createTransport }) =>
        createTransport({
          pool: true,
          maxConnections: this.deps.connections,
          host: relay.host,
          port: relay.port,
          secure: relay.tls === 'implicit',
          requireTLS: relay.tls === 'starttls',
          ...(relay.user && relay.password ? { auth: { user: relay.user, pass: relay.password } } : {}),
          tls: this.#tlsOptions(),
          connectionTimeout: 10_000,
          greetingTimeout: 10_000,
          socketTimeout: 60_000,
          disableFileAccess: true,
          disableUrlAccess: true,
        }),
      );
      this.#transports.set(geographyKey, transport);
      transport.catch(() => this.#transports.delete(geographyKey));
    }
    return transport;
  }
}
