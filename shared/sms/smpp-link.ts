import type { PDU, PduFields, Session } from 'smpp';
import type { CarrierSettings, SmsTuning } from '../config/sms-settings.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * One SMPP 3.4 connection to a carrier: a bound transceiver (it submits and receives on the same
 * session). It connects on first use, binds with the carrier's system id and password, keeps the
 * link alive with enquire_link (a link that does not answer within SMPP_RESPONSE_TIMEOUT_MS is
 * dropped), answers the carrier's enquire_link and unbind, and after any loss reconnects with
 * exponential backoff (1 s doubling up to SMPP_RECONNECT_MAX_SECONDS). While the link is down a
 * submit fails at once with LinkDownError: the sender reports it per recipient, nothing is queued
 * or lost silently. At most SMPP_WINDOW submits await their response at once.
 */
export class LinkDownError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LinkDownError';
  }
}

/** A submit the carrier refused (a non-zero command_status in submit_sm_resp). */
export class SubmitRefusedError extends Error {
  constructor(readonly commandStatus: number) {
    super(`The carrier refused the message (SMPP command_status 0x${commandStatus.toString(16).padStart(8, '0')}).`);
    this.name = 'SubmitRefusedError';
  }
}

export type LinkState = 'idle' | 'connecting' | 'bound' | 'down' | 'closed';

export interface SmppLinkDeps {
  /** `{geography}/{carrier}`, for logs. */
  name: string;
  geographyKey: string;
  carrier: CarrierSettings;
  tuning: SmsTuning;
  logger: Logger;
  /** The `smpp` package, imported on first use. */
  loadSmpp: () => Promise<typeof import('smpp')>;
  /** A deliver_sm from the carrier (a delivery receipt or a mobile-originated message); resolves to the command_status to answer. */
  onDeliver: (link: SmppLink, pdu: PDU) => Promise<number>;
}

interface Pending {
  resolve: (pdu: PDU) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const INITIAL_BACKOFF_MS = 1000;

export class SmppLink {
  #state: LinkState = 'idle';
  #session: Session | undefined;
  #bound: Promise<void> | undefined;
  #backoffMs = INITIAL_BACKOFF_MS;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #enquireTimer: NodeJS.Timeout | undefined;
  readonly #pending = new Set<Pending>();
  #inFlight = 0;
  readonly #windowQueue: (() => void)[] = [];
  #boundAt: string | undefined;
  #lastError: string | undefined;

  constructor(private readonly deps: SmppLinkDeps) {}

  get name(): string {
    return this.deps.name;
  }

  get geographyKey(): string {
    return this.deps.geographyKey;
  }

  get state(): LinkState {
    return this.#state;
  }

  status(): { name: string; state: LinkState; boundAt?: string; lastError?: string } {
    return { name: this.deps.name, state: this.#state, ...(this.#boundAt ? { boundAt: this.#boundAt } : {}), ...(this.#lastError ? { lastError: this.#lastError } : {}) };
  }

  /** Starts connecting if the link is not bound or on its way; resolves once bound (rejects if this attempt fails). */
  connect(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new LinkDownError(`The carrier link ${this.deps.name} is closed.`));
    if (this.#state === 'bound') return Promise.resolve();
    if (this.#state === 'connecting' && this.#bound) return this.#bound;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#state = 'connecting';
    this.#bound = this.#open().catch((error: unknown) => {
      this.#lastError ??= error instanceof Error ? error.message : String(error);
      // A session that exists is dropped (its close reschedules); without one (the package did not load), reschedule here.
      if (this.#session) this.#session.destroy();
      else if (this.#state === 'connecting') this.#down('the connection could not be opened');
      throw error;
    });
    this.#bound.catch(() => undefined);
    return this.#bound;
  }

  /**
   * Submits one PDU and resolves with the carrier's message id. A link that is down answers at once
   * (LinkDownError); one being connected (first use) is waited for, at most one response timeout.
   */
  async submit(fields: PduFields): Promise<string> {
    if (this.#state === 'idle') this.connect().catch(() => undefined);
    if (this.#state === 'connecting') await withTimeout(this.#bound!, this.deps.tuning.responseTimeoutMs).catch(() => undefined);
    if (this.#state !== 'bound') throw new LinkDownError(`The carrier link ${this.deps.name} is down.`);
    await this.#enterWindow();
    try {
      const response = await this.#request('submit_sm', fields);
      if (response.command_status !== 0) throw new SubmitRefusedError(response.command_status);
      return String(response.message_id ?? '');
    } finally {
      this.#leaveWindow();
    }
  }

  /** Unbinds and closes for good (the app stops). */
  async close(): Promise<void> {
    const session = this.#session;
    const wasBound = this.#state === 'bound';
    this.#state = 'closed';
    clearTimeout(this.#reconnectTimer);
    clearInterval(this.#enquireTimer);
    if (session && wasBound) await withTimeout(this.#requestOn(session, 'unbind', {}), 1000).catch(() => undefined);
    session?.destroy();
    this.#failPending(new LinkDownError(`The carrier link ${this.deps.name} is closed.`));
  }

  async #open(): Promise<void> {
    const smpp = await this.deps.loadSmpp();
    if (this.#state !== 'connecting') throw new LinkDownError(`The carrier link ${this.deps.name} is closed.`);
    const { host, port, tls, systemId, password, systemType } = this.deps.carrier;
    const session = smpp.connect({ host, port, tls });
    this.#session = session;
    session.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    session.on('close', () => this.#lost(session, 'the connection closed'));
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on('deliver_sm', (pdu: PDU) => {
      void this.deps
        .onDeliver(this, pdu)
        .catch(() => smpp.ESME_RX_T_APPN)
        .then((status) => session.send(pdu.response({ command_status: status, message_id: '' })));
    });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        session.once(tls ? 'secureConnect' : 'connect', () => resolve());
        session.once('close', () => reject(new LinkDownError(`Could not connect to ${this.deps.name}.`)));
      }),
      this.deps.tuning.responseTimeoutMs,
    );
    const response = await this.#requestOn(session, 'bind_transceiver', { system_id: systemId, password, system_type: systemType, interface_version: 0x34 });
    if (response.command_status !== 0) {
      this.#lastError = `bind refused (command_status 0x${response.command_status.toString(16)})`;
      this.#lost(session, 'the carrier refused the bind');
      session.destroy();
      throw new LinkDownError(`The carrier ${this.deps.name} refused the bind.`);
    }
    if (this.#state !== 'connecting' || this.#session !== session) {
      session.destroy();
      throw new LinkDownError(`The carrier link ${this.deps.name} is closed.`);
    }
    this.#state = 'bound';
    this.#boundAt = new Date().toISOString();
    this.#lastError = undefined;
    this.#backoffMs = INITIAL_BACKOFF_MS;
    this.#enquireTimer = setInterval(() => this.#enquire(session), this.deps.tuning.enquireLinkSeconds * 1000);
    this.#enquireTimer.unref();
    this.deps.logger.info('sms.link_bound', { geography: this.deps.geographyKey, detail: this.deps.name });
  }

  #enquire(session: Session): void {
    this.#requestOn(session, 'enquire_link', {}).catch(() => {
      this.#lastError = 'enquire_link was not answered';
      session.destroy();
    });
  }

  /** The session ended (or never bound): fail what waits on it and reconnect after the backoff. */
  #lost(session: Session, why: string): void {
    if (this.#session !== session) return;
    this.#session = undefined;
    clearInterval(this.#enquireTimer);
    this.#failPending(new LinkDownError(`The carrier link ${this.deps.name} went down: ${why}.`));
    this.#down(why);
  }

  #down(why: string): void {
    if (this.#state === 'closed') return;
    const wasBound = this.#state === 'bound';
    this.#state = 'down';
    if (wasBound) this.deps.logger.warn('sms.link_down', { geography: this.deps.geographyKey, detail: `${this.deps.name}: ${this.#lastError ?? why}` });
    const delay = this.#backoffMs;
    this.#backoffMs = Math.min(this.#backoffMs * 2, this.deps.tuning.reconnectMaxSeconds * 1000);
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      if (this.#state === 'down') this.connect().catch(() => undefined);
    }, delay);
    this.#reconnectTimer.unref();
  }

  #request(command: string, fields: PduFields): Promise<PDU> {
    const session = this.#session;
    if (!session || this.#state !== 'bound') return Promise.reject(new LinkDownError(`The carrier link ${this.deps.name} is down.`));
    return this.#requestOn(session, command, fields).catch((error: unknown) => {
      // A request the carrier leaves unanswered means the link is broken: drop it (and reconnect).
      if (error instanceof ResponseTimeoutError) session.destroy();
      throw error instanceof ResponseTimeoutError ? new LinkDownError(`The carrier link ${this.deps.name} did not answer in time.`) : error;
    });
  }

  #requestOn(session: Session, command: string, fields: PduFields): Promise<PDU> {
    return new Promise<PDU>((resolve, reject) => {
      const pending: Pending = {
        resolve: (pdu) => {
          clearTimeout(pending.timer);
          this.#pending.delete(pending);
          resolve(pdu);
        },
        reject: (error) => {
          clearTimeout(pending.timer);
          this.#pending.delete(pending);
          reject(error);
        },
        timer: setTimeout(() => pending.reject(new ResponseTimeoutError()), this.deps.tuning.responseTimeoutMs),
      };
      this.#pending.add(pending);
      const method = (session as unknown as Record<string, (options: PduFields, callback: (pdu: PDU) => void) => boolean>)[command]!;
      if (!method.call(session, fields, (pdu: PDU) => pending.resolve(pdu))) pending.reject(new LinkDownError(`The carrier link ${this.deps.name} is down.`));
    });
  }

  #failPending(error: Error): void {
    for (const pending of [...this.#pending]) pending.reject(error);
  }

  async #enterWindow(): Promise<void> {
    while (this.#inFlight >= this.deps.tuning.window) await new Promise<void>((resolve) => this.#windowQueue.push(resolve));
    this.#inFlight += 1;
  }

  #leaveWindow(): void {
    this.#inFlight -= 1;
    this.#windowQueue.shift()?.();
  }
}

class ResponseTimeoutError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new ResponseTimeoutError()), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
