import type { PDU } from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalSmsc } from '../../local/smsc/smsc.js';
import { SmscHttpApi } from '../../local/smsc/smsc-http.js';
import { parseDeliveryReceipt } from '../../shared/sms/delivery-receipt.js';
import { LinkDownError, SmppLink } from '../../shared/sms/smpp-link.js';
import { createLogger } from '../../shared/telemetry/logger.js';
import { eventually } from '../support/sms.js';

/**
 * The embedded SMSC and the app's SMPP link against each other, without the rest of the stack: the
 * bind (and a refused one), submit_sm and its recorded fields, delivery receipts (and a failing
 * number's), an inbound message answered "try again later" then taken, an outage and the link's
 * reconnection, and the HTTP API's answers.
 */
let smsc: LocalSmsc;
let api: SmscHttpApi;
const delivered: PDU[] = [];
let answer: (pdu: PDU) => number = () => 0;
const logger = createLogger({ pseudonymize: (s) => s, level: 'error', sink: () => undefined });
const tuning = { enquireLinkSeconds: 1, reconnectMaxSeconds: 1, responseTimeoutMs: 2000, window: 4 };
const loadSmpp = () => import('smpp').then((m) => ((m as { default?: typeof import('smpp') }).default ?? m) as typeof import('smpp'));
const link = (password: string) =>
  new SmppLink({
    name: 'test/default',
    geographyKey: 'europe',
    carrier: { host: '127.0.0.1', port: smsc.port, systemId: 'europe', password, systemType: '', tls: false },
    tuning,
    logger,
    loadSmpp,
    onDeliver: async (_link, pdu) => {
      delivered.push(pdu);
      return answer(pdu);
    },
  });
let bound: SmppLink;

beforeAll(async () => {
  smsc = new LocalSmsc({ accounts: [{ systemId: 'europe', password: 'secret' }], receiptDelayMs: 10, retryDelaysMs: [50, 50, 50] });
  await smsc.start();
  api = new SmscHttpApi(smsc);
  await api.start();
  bound = link('secret');
  await bound.connect();
});
afterAll(async () => {
  await bound?.close();
  await api?.stop();
  await smsc?.stop();
});

const http = async (method: string, path: string, body?: unknown) => {
  const response = await fetch(`${api.url}${path}`, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

describe('binding', () => {
  it('binds a transceiver with the right password and refuses a wrong one', async () => {
    expect(bound.state).toBe('bound');
    expect((await http('GET', '/api/sessions')).body).toEqual({ value: [{ systemId: 'europe', bindType: 'transceiver', boundAt: expect.any(String) }], available: true });
    const wrong = link('nope');
    await expect(wrong.connect()).rejects.toBeInstanceOf(LinkDownError);
    expect(wrong.status()).toMatchObject({ state: 'down', lastError: 'bind refused (command_status 0xe)' });
    await wrong.close();
  });
});

describe('submit_sm and receipts', () => {
  it('answers a message id and records the fields; sends a receipt when asked, UNDELIV for a failing number', async () => {
    smsc.failingNumbers = new Set(['+447700900002']);
    const fields = { source_addr_ton: 1, source_addr_npi: 1, source_addr: '18005550100', dest_addr_ton: 1, dest_addr_npi: 1, esm_class: 0, data_coding: 0, registered_delivery: 1 };
    const ok = await bound.submit({ ...fields, destination_addr: '447700900001', short_message: Buffer.from('hello') });
    const failed = await bound.submit({ ...fields, destination_addr: '447700900002', short_message: Buffer.from('hello') });
    expect(ok).toMatch(/^[0-9a-f]{10}$/);
    const messages = (await http('GET', '/api/messages')).body.value;
    expect(messages.at(-2)).toMatchObject({ id: ok, systemId: 'europe', sourceAddr: '18005550100', destinationAddr: '447700900001', registeredDelivery: 1, udh: '', text: 'hello' });
    await eventually(() => (delivered.length >= 2 ? true : undefined));
    const receipts = delivered.splice(0).map((pdu) => parseDeliveryReceipt(pdu));
    expect(receipts).toEqual([
      { messageId: ok, state: 'DELIVRD', error: '000', doneAt: expect.any(String) },
      { messageId: failed, state: 'UNDELIV', error: '001', doneAt: expect.any(String) },
    ]);
    await eventually(() => (smsc.submitted.at(-1)?.receipt?.acknowledged ? true : undefined));
  });
});

describe('inbound messages', () => {
  it('are offered again when answered "try again later", then taken', async () => {
    let first = true;
    answer = () => (first ? ((first = false), 0x64) : 0);
    const injected = await http('POST', '/api/inbound', { from: '+447700900010', to: '+18005550100', text: 'Hi there' });
    expect(injected.status).toBe(202);
    await eventually(async () => ((await http('GET', '/api/inbound')).body.value.at(-1).status === 'delivered' ? true : undefined));
    expect(delivered.map((p) => [p.source_addr, p.destination_addr, (p.short_message as { message: string }).message])).toEqual([
      ['447700900010', '18005550100', 'Hi there'],
      ['447700900010', '18005550100', 'Hi there'],
    ]);
    delivered.length = 0;
    answer = () => 0;
  });

  it('refuses a malformed injection, naming the field', async () => {
    expect(await http('POST', '/api/inbound', { from: 'me', to: '+18005550100', text: 'x' })).toEqual({ status: 400, body: { error: { code: 'BadRequest', message: 'from: from must be a phone number' } } });
    expect((await http('GET', '/api/nothing')).status).toBe(404);
  });
});

describe('an outage', () => {
  it('drops the link; a submit fails at once; the link rebinds when the SMSC is back', async () => {
    expect((await http('POST', '/api/link', { available: false })).status).toBe(204);
    await eventually(() => (bound.state === 'down' ? true : undefined));
    const started = Date.now();
    await expect(bound.submit({ destination_addr: '447700900001', short_message: Buffer.from('x') })).rejects.toBeInstanceOf(LinkDownError);
    expect(Date.now() - started).toBeLessThan(100);
    expect((await http('POST', '/api/link', { available: true })).status).toBe(204);
    await eventually(() => (bound.state === 'bound' ? true : undefined), 5000, 'the rebind');
    await expect(bound.submit({ destination_addr: '447700900001', short_message: Buffer.from('x') })).resolves.toMatch(/^[0-9a-f]{10}$/);
  });
});
