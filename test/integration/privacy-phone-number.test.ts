import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivacyClient } from '../support/privacy.js';
import { buyNumbers, eventsOf, eventually, importNumbers, itemsOf, smsClient, smscOf, tollFree } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * A data subject request for a phone number: a person who texted STOP to a number of the resource
 * and was sent messages. Their opt-out, the repeatability claims of the sends, the operation log
 * records and the outbox entries that name their number are found, exported and erased; another
 * person's records are left alone. A request for the resource's own number finds its assignment facts.
 */
let stack: TestStack;
let resource: ResourceView;
let privacy: PrivacyClient;
let number: string;
const person = '+447700900050';
const other = '+447700900051';
const raw = (n: string) => `4:${n}`;

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_SMSC_RECEIPT_DELAY_MS: '20' } });
  resource = await stack.createResource('dsr-phone', 'Europe');
  privacy = new PrivacyClient(() => stack, resource);
  await importNumbers(stack, 'Europe', [tollFree('+18005550501')]);
  [number] = (await buyNumbers(stack, resource, { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application' })) as [string];
  // Two sends to the person and one to someone else (each recipient with a repeatability claim).
  await smsClient(stack, resource).send({ from: number, to: [person, other], message: 'Appointment tomorrow 9:00' });
  await smsClient(stack, resource).send({ from: number, to: [person], message: 'Reminder: appointment tomorrow' });
  // Both text STOP: two opt-outs, two SMSReceived events.
  smscOf(stack).inject(person, number, 'STOP');
  smscOf(stack).inject(other, number, 'STOP');
  await eventually(() => (eventsOf(stack, resource.id, 'Microsoft.Communication.SMSReceived').length === 2 ? true : undefined));
  await eventually(async () => ((await itemsOf(stack, 'europe', 'outbox')).every((e) => e.status === 'published') ? true : undefined));
});
afterAll(async () => stack?.stop());

const naming = (items: Record<string, any>[], n: string) => items.filter((i) => JSON.stringify(i).includes(n.slice(1)));

describe('a data subject request for a phone number', () => {
  it('inventory finds the opt-out, the repeatability claims, the log records and the outbox entry', async () => {
    const { id } = await privacy.submit('inventory', { phoneNumbers: [person] });
    const done = await privacy.finished(id);
    expect(done.status).toBe('succeeded');
    const listing = await privacy.result(id);
    const logs = (await itemsOf(stack, 'europe', 'operationLogs')).filter((r) => r.subjects.includes(raw(person)));
    expect(logs.map((l) => l.operation).sort()).toEqual(['SMSMessagesReceived', 'SMSMessagesSent', 'SMSMessagesSent']);
    expect(listing.counts).toEqual({
      operationLog: { found: 3, held: 0 },
      smsOptOut: { found: 1, held: 0 },
      smsRepeatability: { found: 2, held: 0 },
      outboxEntry: { found: 1, held: 0 },
    });
    expect(listing.data.smsRecords.map((i: Record<string, unknown>) => i.kind).sort()).toEqual(['smsOptOut', 'smsRepeatability', 'smsRepeatability']);
    expect(listing.data.phoneNumberRecords).toEqual([]);
  });

  it('export holds the person\'s own SMS records and log records, never message text', async () => {
    const { id } = await privacy.submit('export', { phoneNumbers: [person] });
    expect((await privacy.finished(id)).status).toBe('succeeded');
    const bundle = await privacy.result(id);
    const sms = bundle.data.sms as Record<string, any>[];
    expect(sms.find((r) => r.record === 'optOut')).toEqual({ record: 'optOut', phoneNumber: number, recipient: person, optedOutAt: expect.any(String) });
    expect(sms.filter((r) => r.record === 'repeatability').map((r) => [r.from, r.to, r.outcome.httpStatusCode])).toEqual([
      [number, person, 202],
      [number, person, 202],
    ]);
    expect(bundle.data.operationLogs.map((l: Record<string, any>) => l.subjects)).toEqual([[raw(person)], [raw(person)], [raw(person)]]);
    const text = JSON.stringify(bundle);
    for (const words of ['Appointment tomorrow', 'Reminder', other.slice(1)]) expect(text).not.toContain(words);
  });

  it('delete erases them, leaves the other person\'s, and the person is no longer blocked', async () => {
    const { id } = await privacy.submit('delete', { phoneNumbers: [person] });
    const done = await privacy.finished(id);
    expect(done.status).toBe('succeeded');
    const receipt = (await privacy.call('GET', `/privacy/receipts/${done.result.receiptId}`)).body;
    expect(receipt).toMatchObject({ deleted: { smsOptOut: 1, smsRepeatability: 2, operationLog: 3, outboxEntry: 1 }, held: {}, holdIds: [] });
    expect(JSON.stringify(receipt)).not.toContain(person.slice(1));
    expect(naming(await itemsOf(stack, 'europe', 'smsRecords'), person)).toEqual([]);
    expect(naming(await itemsOf(stack, 'europe', 'outbox'), person)).toEqual([]);
    expect(naming(await itemsOf(stack, 'europe', 'operationLogs'), person)).toEqual([]);
    // The other person's opt-out, claim and records stay.
    expect(naming(await itemsOf(stack, 'europe', 'smsRecords'), other).map((r) => r.kind).sort()).toEqual(['smsOptOut', 'smsRepeatability']);
    // (The send that named both is erased with the person's records: a log record is kept or erased whole.)
    expect(naming(await itemsOf(stack, 'europe', 'operationLogs'), other).map((r) => r.operation)).toEqual(['SMSMessagesReceived']);
    // Erased means forgotten: the opt-out no longer suppresses messages to the person.
    const [result] = await smsClient(stack, resource).send({ from: number, to: [person], message: 'after erasure' });
    expect(result).toMatchObject({ httpStatusCode: 202, successful: true });
  });

  it('a request for the resource\'s own number finds and erases its assignment facts; the number stays assigned', async () => {
    const { id } = await privacy.submit('inventory', { phoneNumbers: [number] });
    const listing = await privacy.result((await privacy.finished(id)).id);
    expect(listing.data.phoneNumberRecords.map((i: Record<string, unknown>) => i.kind).sort()).toEqual(['phoneNumberAssignment', 'phoneNumberOperation', 'phoneNumberSearch']);
    const erase = await privacy.submit('delete', { phoneNumbers: [number] });
    expect((await privacy.finished(erase.id)).status).toBe('succeeded');
    expect(naming(await itemsOf(stack, 'europe', 'phoneNumberRecords'), number)).toEqual([]);
    const [stillSends] = await smsClient(stack, resource).send({ from: number, to: [other], message: 'still ours' });
    expect(stillSends!.httpStatusCode).toBe(403); // the other person opted out; the number itself still belongs to the resource
  });
});
