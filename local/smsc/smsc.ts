import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { PDU, Server, Session } from 'smpp';
import { formatReceiptText } from '../../shared/sms/delivery-receipt.js';
import { encodeMessage } from '../../shared/sms/sms-encoding.js';

/**
 * The embedded SMSC of `npm start` and the tests: the server side of the `smpp` package, speaking
 * SMPP 3.4 to the app's carrier links. It binds accounts (system id and password), answers
 * enquire_link and unbind, accepts submit_sm (recording every PDU's fields), sends a delivery
 * receipt after `receiptDelayMs` when one was asked for (registered_delivery), fails deliveries to
 * the numbers configured to fail, and delivers injected mobile-originated messages as deliver_sm
 * (segmented and encoded as a handset would send them). A deliver_sm answered with an error is sent
 * again with backoff. Everything is kept in memory only (the newest `maxKept` of each list); the
 * HTTP API (smsc-http.ts) shows it. `setAvailable(false)` stops listening and drops every session
 * (a carrier outage); `true` listens again on the same port.
 */
export interface SmscAccount {
  systemId: string;
  password: string;
}

export interface LocalSmscOptions {
  accounts: SmscAccount[];
  /** SMPP port (0: a free one). */
  port?: number;
  host?: string;
  receiptDelayMs?: number;
  failingNumbers?: string[];
  maxKept?: number;
  /** Delays before a deliver_sm answered with an error is offered again (then it is given up). */
  retryDelaysMs?: number[];
  log?: (line: string) => void;
}

export interface SubmittedPdu {
  /** The SMSC's message id (submit_sm_resp). */
  id: string;
  systemId: string;
  receivedAt: string;
  sourceAddr: string;
  sourceAddrTon: number;
  sourceAddrNpi: number;
  destinationAddr: string;
  destAddrTon: number;
  destAddrNpi: number;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  /** The User Data Header (length octet included), hex; '' without one. */
  udh: string;
  /** The short message after the UDH, decoded. */
  text: string;
  receipt?: { state: string; sentAt?: string; acknowledged: boolean; attempts: number };
}

export interface InjectedMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  segments: number;
  injectedAt: string;
  status: 'pending' | 'delivered' | 'rejected';
  deliveredTo?: string;
}

export interface BoundSession {
  systemId: string;
  bindType: string;
  boundAt: string;
}

const DEFAULT_RETRIES = [500, 1000, 2000, 4000, 8000];
const require = createRequire(import.meta.url);

export class LocalSmsc {
  readonly submitted: SubmittedPdu[] = [];
  readonly injected: InjectedMessage[] = [];
  failingNumbers: Set<string>;
  #server: Server | undefined;
  #port: number;
  readonly #sessions = new Map<Session, BoundSession>();
  #available = true;
  #nextId = 1;
  #reference = 0;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #smpp: typeof import('smpp') = require('smpp') as typeof import('smpp');

  constructor(private readonly options: LocalSmscOptions) {
    this.#port = options.port ?? 0;
    this.failingNumbers = new Set(options.failingNumbers ?? []);
  }

  get port(): number {
    return this.#port;
  }

  get available(): boolean {
    return this.#available;
  }

  sessions(): BoundSession[] {
    return [...this.#sessions.values()];
  }

  async start(): Promise<void> {
    const server = this.#smpp.createServer({}, (session) => this.#accept(session));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#closeServer();
  }

  /** Takes the SMSC down (no listener, every session dropped) or back up on the same port. */
  async setAvailable(available: boolean): Promise<void> {
    if (available === this.#available) return;
    this.#available = available;
    if (available) await this.start();
    else await this.#closeServer();
  }

  /** Queues a mobile-originated message from a handset (`from`) to a number (`to`); returns it as kept. */
  inject(input: { from: string; to: string; text: string; systemId?: string }): InjectedMessage {
    this.#reference = (this.#reference + 1) & 0xff;
    const encoded = encodeMessage(input.text, this.#reference);
    const message: InjectedMessage = { id: this.#newId(), from: input.from, to: input.to, text: input.text, segments: encoded.segments.length, injectedAt: new Date().toISOString(), status: 'pending' };
    this.#keep(this.injected, message);
    const pdus = encoded.segments.map((segment) => ({
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: digits(input.from),
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: digits(input.to),
      esm_class: segment.udh.length > 0 ? 0x40 : 0,
      data_coding: encoded.dataCoding,
      short_message: Buffer.concat([segment.udh, segment.payload]),
    }));
    void this.#deliverInbound(message, pdus, input.systemId, 0);
    return message;
  }

  #accept(session: Session): void {
    session.on('error', () => undefined);
    session.on('close', () => this.#sessions.delete(session));
    for (const bindType of ['bind_transceiver', 'bind_transmitter', 'bind_receiver']) {
      session.on(bindType, (pdu: PDU) => {
        const account = this.options.accounts.find((a) => a.systemId === pdu.system_id);
        if (!account || account.password !== pdu.password) {
          session.send(pdu.response({ command_status: account ? this.#smpp.ESME_RINVPASWD : this.#smpp.ESME_RINVSYSID }));
          session.close();
          return;
        }
        this.#sessions.set(session, { systemId: account.systemId, bindType: bindType.slice(5), boundAt: new Date().toISOString() });
        session.send(pdu.response({ system_id: 'acs-local-smsc' }));
        this.options.log?.(`[smsc] ${account.systemId} bound (${bindType.slice(5)})`);
      });
    }
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      this.#sessions.delete(session);
      session.send(pdu.response());
      session.close();
    });
    session.on('submit_sm', (pdu: PDU) => this.#submit(session, pdu));
  }

  #submit(session: Session, pdu: PDU): void {
    const bound = this.#sessions.get(session);
    if (!bound || bound.bindType === 'receiver') {
      session.send(pdu.response({ command_status: this.#smpp.ESME_RINVBNDSTS }));
      return;
    }
    const short = (pdu.short_message ?? {}) as { udh?: Buffer[]; message?: string | Buffer };
    const elements = short.udh ?? [];
    const udh = elements.length > 0 ? Buffer.concat([Buffer.from([elements.reduce((n, e) => n + e.length, 0)]), ...elements]) : Buffer.alloc(0);
    const record: SubmittedPdu = {
      id: this.#newId(),
      systemId: bound.systemId,
      receivedAt: new Date().toISOString(),
      sourceAddr: pdu.source_addr,
      sourceAddrTon: pdu.source_addr_ton,
      sourceAddrNpi: pdu.source_addr_npi,
      destinationAddr: pdu.destination_addr,
      destAddrTon: pdu.dest_addr_ton,
      destAddrNpi: pdu.dest_addr_npi,
      esmClass: pdu.esm_class,
      dataCoding: pdu.data_coding,
      registeredDelivery: pdu.registered_delivery,
      udh: udh.toString('hex'),
      text: typeof short.message === 'string' ? short.message : Buffer.isBuffer(short.message) ? short.message.toString('latin1') : '',
    };
    this.#keep(this.submitted, record);
    session.send(pdu.response({ message_id: record.id }));
    if ((pdu.registered_delivery & 0x03) !== 0) this.#later(this.options.receiptDelayMs ?? 200, () => this.#sendReceipt(record, session, 0));
  }

  #sendReceipt(record: SubmittedPdu, preferred: Session, attempt: number): void {
    const failing = this.failingNumbers.has(`+${record.destinationAddr}`) || this.failingNumbers.has(record.destinationAddr);
    const state = failing ? 'UNDELIV' : 'DELIVRD';
    // Success receipts only when asked for all outcomes (registered_delivery 1), failure receipts for 1 and 2.
    if (!failing && (record.registeredDelivery & 0x03) === 2) return;
    record.receipt ??= { state, acknowledged: false, attempts: 0 };
    const session = this.#sessions.has(preferred) ? preferred : this.#sessionFor(record.systemId);
    const retry = () => {
      const delay = (this.options.retryDelaysMs ?? DEFAULT_RETRIES)[attempt];
      if (delay !== undefined) this.#later(delay, () => this.#sendReceipt(record, preferred, attempt + 1));
    };
    if (!session) return retry();
    const now = new Date();
    record.receipt.attempts += 1;
    record.receipt.sentAt = now.toISOString();
    const text = formatReceiptText({ id: record.id, delivered: !failing, state, error: failing ? '001' : '000', submitDate: new Date(record.receivedAt), doneDate: now, text: record.text.slice(0, 20).replace(/[^\x20-\x7e]/g, '?') });
    session.deliver_sm(
      {
        source_addr_ton: record.destAddrTon,
        source_addr_npi: record.destAddrNpi,
        source_addr: record.destinationAddr,
        dest_addr_ton: record.sourceAddrTon,
        dest_addr_npi: record.sourceAddrNpi,
        destination_addr: record.sourceAddr,
        esm_class: 0x04,
        data_coding: 0x01,
        short_message: Buffer.from(text, 'latin1'),
        receipted_message_id: record.id,
        message_state: failing ? 5 : 2,
      },
      (response) => {
        if (response.command_status === 0) record.receipt!.acknowledged = true;
        else retry();
      },
    );
  }

  /** Offers an inbound message to the bound sessions (of `systemId` if given) until one takes it. */
  async #deliverInbound(message: InjectedMessage, pdus: Record<string, unknown>[], systemId: string | undefined, attempt: number): Promise<void> {
    const candidates = [...this.#sessions.entries()].filter(([, s]) => s.bindType !== 'transmitter' && (!systemId || s.systemId === systemId));
    let temporary = candidates.length === 0;
    for (const [session, bound] of candidates) {
      const statuses: number[] = [];
      for (const pdu of pdus) {
        const status = await new Promise<number>((resolve) => {
          if (!session.deliver_sm(pdu, (response) => resolve(response.command_status))) resolve(-1);
        });
        statuses.push(status);
        if (status !== 0) break;
      }
      if (statuses.every((s) => s === 0)) {
        message.status = 'delivered';
        message.deliveredTo = bound.systemId;
        return;
      }
      // Not this account's number: try the next one. Anything else: try again later.
      if (statuses.at(-1) !== this.#smpp.ESME_RINVDSTADR) temporary = true;
    }
    const delay = (this.options.retryDelaysMs ?? DEFAULT_RETRIES)[attempt];
    if (temporary && delay !== undefined) this.#later(delay, () => void this.#deliverInbound(message, pdus, systemId, attempt + 1));
    else message.status = 'rejected';
  }

  #sessionFor(systemId: string): Session | undefined {
    return [...this.#sessions.entries()].find(([, s]) => s.systemId === systemId && s.bindType !== 'transmitter')?.[0];
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const session of this.#sessions.keys()) session.destroy();
    for (const session of server?.sessions ?? []) session.destroy();
    this.#sessions.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #later(ms: number, task: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      task();
    }, ms);
    this.#timers.add(timer);
  }

  #keep<T>(list: T[], item: T): void {
    list.push(item);
    const max = this.options.maxKept ?? 10_000;
    if (list.length > max) list.splice(0, list.length - max);
  }

  #newId(): string {
    return (this.#nextId++).toString(16).padStart(10, '0');
  }
}

const digits = (number: string) => number.replace(/^\+/, '');
