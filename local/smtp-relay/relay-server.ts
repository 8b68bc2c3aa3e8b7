import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { SMTPServer, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { ReceivedMail } from './received-mail.js';

/**
 * The embedded SMTP relay of the development host and the tests (`smtp-server`): TLS (STARTTLS, or
 * implicit TLS) with the development certificate, AUTH PLAIN or LOGIN only after TLS and required
 * before MAIL FROM, so a client that does not secure the session or does not authenticate gets
 * nothing through. It keeps what it accepted in memory (the newest `maxReceived`), records every
 * RCPT TO with the reply it gave, and answers a failure for addresses configured to fail:
 * permanently (5xx) or temporarily (4xx, optionally only the first n times), at RCPT TO or after
 * the message (DATA).
 */
export interface FailureRule {
  mode: 'permanent' | 'temporary';
  /** The reply code (default 550 for permanent, 451 for temporary). */
  code?: number;
  /** RCPT TO (default) or the reply to the message. */
  stage?: 'rcpt' | 'data';
  /** Fail only this many more times, then accept. */
  times?: number;
}

export interface RcptAttempt {
  at: string;
  address: string;
  code: number;
  secure: boolean;
  user?: string;
}

export interface SmtpRelayOptions {
  tls: { key: string; cert: string };
  user: string;
  password: string;
  /** 0 = a free port. */
  port?: number;
  /** Implicit TLS (port 465 style) instead of STARTTLS. */
  implicitTls?: boolean;
  maxReceived?: number;
  /** The largest message accepted (SIZE). */
  maxBytes?: number;
  /** Tests: no STARTTLS at all, and then AUTH and mail in clear (a client that requires TLS must give up without sending anything). */
  withoutStartTls?: boolean;
}

export interface RelaySession {
  id: string;
  openedAt: string;
  /** As the session ended: whether it was secured and who authenticated (undefined: nobody). */
  secure: boolean;
  user?: string;
  closed: boolean;
}

const ENHANCED: Record<number, string> = { 550: '5.1.1', 551: '5.1.6', 552: '5.2.2', 553: '5.1.3', 554: '5.7.1', 450: '4.2.1', 451: '4.3.0', 452: '4.2.2', 421: '4.7.0' };

const smtpError = (code: number, text: string) => Object.assign(new Error(`${ENHANCED[code] ?? (code >= 500 ? '5.0.0' : '4.0.0')} ${text}`), { responseCode: code });

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export class SmtpRelayServer {
  readonly received: ReceivedMail[] = [];
  readonly attempts: RcptAttempt[] = [];
  readonly failures = new Map<string, FailureRule>();
  /** Every SMTP session: was it secured, did it authenticate (for tests of TLS and authentication). */
  readonly sessions: RelaySession[] = [];
  /** Sessions refused at AUTH or MAIL FROM (for tests of TLS and authentication). */
  readonly refusals: { at: string; stage: 'auth' | 'mail'; secure: boolean; reason: string }[] = [];
  dropped = 0;
  #server?: SMTPServer;
  port = 0;

  constructor(private readonly options: SmtpRelayOptions) {}

  get implicitTls(): boolean {
    return this.options.implicitTls ?? false;
  }

  async start(): Promise<void> {
    const { SMTPServer } = await import('smtp-server');
    const server = new SMTPServer({
      secure: this.implicitTls,
      key: this.options.tls.key,
      cert: this.options.tls.cert,
      name: 'relay.localhost',
      banner: 'acs-residency embedded relay',
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      allowInsecureAuth: false,
      size: this.options.maxBytes ?? 30 * 1024 * 1024,
      logger: false,
      ...(this.implicitTls ? { disabledCommands: ['STARTTLS'] } : {}),
      // Without STARTTLS this relay would take AUTH and mail in clear: a client must not let it.
      ...(this.options.withoutStartTls ? { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] } : {}),
      onConnect: (session, callback) => {
        this.sessions.push({ id: session.id, openedAt: new Date().toISOString(), secure: session.secure, closed: false });
        callback();
      },
      onClose: (session) => {
        const known = this.sessions.find((s) => s.id === session.id);
        if (known) Object.assign(known, { secure: session.secure, closed: true, ...(session.user ? { user: String(session.user) } : {}) });
      },
      onAuth: (auth, session, callback) => {
        if (typeof auth.username === 'string' && typeof auth.password === 'string' && sameSecret(auth.username, this.options.user) && sameSecret(auth.password, this.options.password)) {
          return callback(null, { user: auth.username });
        }
        this.refusals.push({ at: new Date().toISOString(), stage: 'auth', secure: session.secure, reason: 'bad credentials' });
        callback(smtpError(535, 'Authentication credentials invalid'));
      },
      onMailFrom: (_address, session, callback) => {
        // smtp-server already refuses MAIL FROM before AUTH, and AUTH before TLS; checked again here
        // (except for the relay without STARTTLS, which stands for a careless relay).
        if ((!session.secure && !this.options.withoutStartTls) || !session.user) {
          this.refusals.push({ at: new Date().toISOString(), stage: 'mail', secure: session.secure, reason: !session.secure ? 'no TLS' : 'not authenticated' });
          return callback(smtpError(530, 'Must issue STARTTLS and AUTH first'));
        }
        callback();
      },
      onRcptTo: (address, session, callback) => {
        const rule = this.#rule(address.address, 'rcpt');
        const code = rule ? (rule.code ?? (rule.mode === 'permanent' ? 550 : 451)) : 250;
        this.attempts.push({ at: new Date().toISOString(), address: address.address.toLowerCase(), code, secure: session.secure, ...(session.user ? { user: String(session.user) } : {}) });
        if (rule) return callback(smtpError(code, code >= 500 ? 'Recipient address rejected: mailbox unavailable' : 'Recipient temporarily unavailable, try again later'));
        callback();
      },
      onData: (stream, session, callback) => this.#receive(stream, session, callback),
    });
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Forgets what it received and the attempts (the failure rules stay). */
  clear(): void {
    this.received.length = 0;
    this.attempts.length = 0;
    this.refusals.length = 0;
    this.sessions.length = 0;
    this.dropped = 0;
  }

  #rule(address: string, stage: 'rcpt' | 'data'): FailureRule | undefined {
    const key = address.toLowerCase();
    const rule = this.failures.get(key);
    if (!rule || (rule.stage ?? 'rcpt') !== stage) return undefined;
    if (rule.times !== undefined) {
      if (rule.times <= 0) return undefined;
      rule.times -= 1;
    }
    return rule;
  }

  #receive(stream: SMTPServerDataStream, session: SMTPServerSession, callback: (error?: Error | null, message?: string) => void): void {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      if (stream.sizeExceeded) return callback(smtpError(552, 'Message exceeds the size limit'));
      // The envelope as the client sent it (a local part may be case-sensitive).
      const rcptTo = session.envelope.rcptTo.map((a) => a.address);
      const failing = rcptTo.map((address) => this.#rule(address, 'data')).find((rule) => rule !== undefined);
      if (failing) {
        const code = failing.code ?? (failing.mode === 'permanent' ? 554 : 451);
        return callback(smtpError(code, code >= 500 ? 'Message refused' : 'Message deferred, try again later'));
      }
      const raw = Buffer.concat(chunks);
      const id = randomUUID();
      this.received.push({
        id,
        receivedAt: new Date().toISOString(),
        envelope: { mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', rcptTo },
        session: { secure: session.secure, ...(session.user ? { user: String(session.user) } : {}), ...tlsProtocol(session) },
        size: raw.length,
        raw,
      });
      const max = this.options.maxReceived ?? 10_000;
      while (this.received.length > max) {
        this.received.shift();
        this.dropped += 1;
      }
      callback(null, `2.0.0 Ok: queued as ${id}`);
    });
  }
}

/** The TLS version of the session (smtp-server keeps the socket's cipher, with its version, in `tlsOptions`). */
function tlsProtocol(session: SMTPServerSession): { tlsProtocol?: string } {
  const cipher = session.tlsOptions as unknown as { version?: string } | false | undefined;
  return cipher && cipher.version ? { tlsProtocol: cipher.version } : {};
}
