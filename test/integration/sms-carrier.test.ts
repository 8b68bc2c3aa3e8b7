import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buyNumbers, eventsOf, eventually, importNumbers, itemsOf, smsClient, smscOf, tollFree } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * SMS through the embedded SMSC over the real SMPP protocol: the PDUs the carrier receives, delivery
 * receipts and inbound messages turned into the ACS events, STOP / START / HELP, and the carrier
 * link going down and coming back.
 */
let stack: TestStack;
let europe: ResourceView;
let minimal: ResourceView;
let japan: ResourceView;
let euNumber: string;
let minimalNumber: string;
let jpNumber: string;

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe,Japan', SMPP_RECONNECT_MAX_SECONDS: '1', LOCAL_SMSC_RECEIPT_DELAY_MS: '20', LOCAL_SMSC_FAILING_NUMBERS: '+14255550666' } });
  europe = await stack.createResource('sms-eu', 'Europe');
  minimal = await stack.createResource('sms-eu-minimal', 'Europe', { eventPayloads: 'minimal' });
  japan = await stack.createResource('sms-jp', 'Japan');
  await importNumbers(stack, 'Europe', [tollFree('+18005550301'), tollFree('+18005550302')]);
  await importNumbers(stack, 'Japan', [tollFree('+18005550401')]);
  const search = { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application' } as const;
  [euNumber] = (await buyNumbers(stack, europe, search)) as [string];
  [minimalNumber] = (await buyNumbers(stack, minimal, search)) as [string];
  [jpNumber] = (await buyNumbers(stack, japan, search)) as [string];
  await eventually(() => (stack.smsc!.server.sessions().length === 2 ? true : undefined), 10_000, 'both geographies bound');
});
afterAll(async () => stack?.stop());

describe('what the carrier receives', () => {
  it('a short GSM-7 message: one submit_sm with international addresses, data_coding 0, no UDH, on the geography\'s own account', async () => {
    smscOf(stack).clear();
    await smsClient(stack, europe).send({ from: euNumber, to: ['+447700900001'], message: 'Hello {world} €5' });
    await smsClient(stack, japan).send({ from: jpNumber, to: ['+819012345678'], message: 'Konnichiwa' });
    const pdus = smscOf(stack).messages();
    expect(pdus.map(({ id: _id, receivedAt: _at, ...fields }) => fields)).toEqual([
      { systemId: 'europe', sourceAddr: '18005550301', sourceAddrTon: 1, sourceAddrNpi: 1, destinationAddr: '447700900001', destAddrTon: 1, destAddrNpi: 1, esmClass: 0, dataCoding: 0, registeredDelivery: 0, udh: '', text: 'Hello {world} €5' },
      { systemId: 'japan', sourceAddr: '18005550401', sourceAddrTon: 1, sourceAddrNpi: 1, destinationAddr: '819012345678', destAddrTon: 1, destAddrNpi: 1, esmClass: 0, dataCoding: 0, registeredDelivery: 0, udh: '', text: 'Konnichiwa' },
    ]);
  });

  it('a long UCS-2 message: concatenated segments of 67 units, UDHI set, the same reference, numbered, with a receipt asked for', async () => {
    smscOf(stack).clear();
    const text = 'Привет! '.repeat(20) + '🙂 done';
    expect(text.length).toBe(167);
    const [result] = await smsClient(stack, europe).send({ from: euNumber, to: ['+447700900002'], message: text }, { enableDeliveryReport: true });
    expect(result!.successful).toBe(true);
    const pdus = smscOf(stack).messages();
    expect(pdus).toHaveLength(3);
    const reference = pdus[0]!.udh.slice(6, 8);
    expect(pdus.map((p) => p.udh)).toEqual([`050003${reference}0301`, `050003${reference}0302`, `050003${reference}0303`]);
    expect(pdus.map((p) => [p.esmClass, p.dataCoding, p.registeredDelivery, p.destinationAddr])).toEqual(Array(3).fill([0x40, 8, 1, '447700900002']));
    expect(pdus.map((p) => p.text.length)).toEqual([67, 67, 33]);
    expect(pdus.map((p) => p.text).join('')).toBe(text);
  });
});

describe('delivery receipts become SMSDeliveryReportReceived', () => {
  it('one event per message when every segment\'s receipt is in, with the tag; the tracking records are gone', async () => {
    const text = 'x'.repeat(200);
    const [result] = await smsClient(stack, europe).send({ from: euNumber, to: ['+447700900003'], message: text }, { enableDeliveryReport: true, tag: 'order-42' });
    const messageId = result!.messageId!;
    const [event] = await eventually(() => {
      const found = eventsOf(stack, europe.id, 'Microsoft.Communication.SMSDeliveryReportReceived').filter((e) => e.data.messageId === messageId);
      return found.length > 0 ? found : undefined;
    });
    expect(event).toMatchObject({ id: messageId, subject: '/phonenumber/18005550301', source: `/resources/${europe.id}`, specversion: '1.0' });
    expect(event!.data).toEqual({
      messageId,
      from: euNumber,
      to: '+447700900003',
      deliveryStatus: 'Delivered',
      deliveryStatusDetails: 'No error.',
      deliveryAttempts: [{ timestamp: expect.any(String), segmentsSucceeded: 2, segmentsFailed: 0 }],
      receivedTimestamp: expect.any(String),
      tag: 'order-42',
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(eventsOf(stack, europe.id, 'Microsoft.Communication.SMSDeliveryReportReceived').filter((e) => e.data.messageId === messageId)).toHaveLength(1);
    expect((await itemsOf(stack, 'europe', 'smsRecords')).filter((r) => r.messageId === messageId).map((r) => r.kind)).toEqual(['smsRepeatability']);
  });

  it('a delivery that fails is reported Failed with the carrier\'s state and error', async () => {
    const [result] = await smsClient(stack, europe).send({ from: euNumber, to: ['+14255550666'], message: 'unreachable' }, { enableDeliveryReport: true });
    const event = await eventually(() => eventsOf(stack, europe.id, 'Microsoft.Communication.SMSDeliveryReportReceived').find((e) => e.data.messageId === result!.messageId));
    expect(event.data).toMatchObject({ deliveryStatus: 'Failed', deliveryStatusDetails: 'The carrier reported UNDELIV (error 001).', deliveryAttempts: [{ segmentsSucceeded: 0, segmentsFailed: 1 }] });
    expect(event.data).not.toHaveProperty('tag');
  });
});

describe('inbound messages become SMSReceived', () => {
  it('a message to a number of the resource, in the ACS shape; a long one reassembled with its segment count', async () => {
    smscOf(stack).inject('+447700900010', euNumber, 'Is my order ready?');
    const long = 'Ünïcödé is fine too 🙂 '.repeat(5).trim();
    smscOf(stack).inject('+447700900010', euNumber, long);
    const received = await eventually(() => {
      const events = eventsOf(stack, europe.id, 'Microsoft.Communication.SMSReceived').filter((e) => e.data.from === '+447700900010');
      return events.length === 2 ? events : undefined;
    });
    expect(received.map((e) => e.data)).toEqual([
      { messageId: received[0]!.id, from: '+447700900010', to: euNumber, message: 'Is my order ready?', receivedTimestamp: expect.any(String), segmentCount: 1 },
      { messageId: received[1]!.id, from: '+447700900010', to: euNumber, message: long, receivedTimestamp: expect.any(String), segmentCount: 2 },
    ]);
    expect(received.map((e) => e.id)).toEqual([expect.stringMatching(/^Incoming_\d{14}[0-9a-f-]{36}$/), expect.stringMatching(/^Incoming_\d{14}[0-9a-f-]{36}$/)]);
    expect(received[0]).toMatchObject({ subject: '/phonenumber/18005550301', type: 'Microsoft.Communication.SMSReceived' });
    // The SMSC notes the delivery once the last deliver_sm_resp is in (just after the event went out).
    await eventually(() => (smscOf(stack).server.injected.slice(-2).every((m) => m.status !== 'pending') ? true : undefined));
    expect(smscOf(stack).server.injected.slice(-2).map((m) => [m.status, m.deliveredTo, m.segments])).toEqual([
      ['delivered', 'europe', 1],
      ['delivered', 'europe', 2],
    ]);
  });

  it('a resource with minimal event payloads gets no message text, and no tag in its delivery reports', async () => {
    smscOf(stack).inject('+447700900011', minimalNumber, 'private words');
    const event = await eventually(() => eventsOf(stack, minimal.id, 'Microsoft.Communication.SMSReceived').find((e) => e.data.from === '+447700900011'));
    expect(event.data).toEqual({ messageId: event.id, from: '+447700900011', to: minimalNumber, receivedTimestamp: expect.any(String), segmentCount: 1 });
    const [sent] = await smsClient(stack, minimal).send({ from: minimalNumber, to: ['+447700900011'], message: 'x' }, { enableDeliveryReport: true, tag: 'patient-7' });
    const report = await eventually(() => eventsOf(stack, minimal.id, 'Microsoft.Communication.SMSDeliveryReportReceived').find((e) => e.data.messageId === sent!.messageId));
    expect(Object.keys(report.data).sort()).toEqual(['deliveryAttempts', 'deliveryStatus', 'deliveryStatusDetails', 'from', 'messageId', 'receivedTimestamp', 'to']);
  });

  it('a number that is not in the pool is refused (ESME_RINVDSTADR) and becomes no event', async () => {
    const injected = smscOf(stack).inject('+447700900012', '+18005550999', 'anyone?');
    await eventually(() => (injected.status === 'rejected' ? true : undefined));
    expect(eventsOf(stack, europe.id, 'Microsoft.Communication.SMSReceived').filter((e) => e.data.from === '+447700900012')).toEqual([]);
  });
});

describe('STOP, START and HELP', () => {
  const handset = '+447700900020';
  const replies = () => smscOf(stack).messages().filter((p) => p.destinationAddr === handset.slice(1));

  it('STOP opts out (the network answers), a send to that recipient fails with ACS\'s error; START opts back in', async () => {
    smscOf(stack).clear();
    smscOf(stack).inject(handset, euNumber, 'Stop');
    await eventually(async () => ((await itemsOf(stack, 'europe', 'smsRecords')).some((r) => r.kind === 'smsOptOut' && r.recipient === handset) ? true : undefined));
    const optOut = (await itemsOf(stack, 'europe', 'smsRecords')).find((r) => r.kind === 'smsOptOut' && r.recipient === handset)!;
    expect(optOut).toMatchObject({ resourceId: europe.id, phoneNumber: euNumber, recipient: handset, subjects: [`4:${handset}`] });
    await eventually(() => (replies().length === 1 ? true : undefined));
    expect(replies()[0]).toMatchObject({ sourceAddr: euNumber.slice(1), text: 'NETWORK MSG: You replied with the word "stop" which blocks all texts sent from this number. Text back "unstop" to receive messages again.' });
    // The STOP is relayed as ACS relays it.
    expect(eventsOf(stack, europe.id, 'Microsoft.Communication.SMSReceived').filter((e) => e.data.from === handset).map((e) => e.data.message)).toEqual(['Stop']);

    const refused = await smsClient(stack, europe).send({ from: euNumber, to: [handset, '+447700900021'], message: 'Promo' });
    expect(refused[0]).toEqual({ to: handset, httpStatusCode: 403, successful: false, errorMessage: 'Sender blocked for given recipient.', repeatabilityResult: 'accepted' });
    expect(refused[1]).toMatchObject({ httpStatusCode: 202, successful: true });
    // Only per number: the resource's other number may still write to them (opt-outs are per number and recipient).
    expect(smscOf(stack).messages().filter((p) => p.text === 'Promo').map((p) => p.destinationAddr)).toEqual(['447700900021']);

    smscOf(stack).inject(handset, euNumber, 'START');
    await eventually(async () => ((await itemsOf(stack, 'europe', 'smsRecords')).some((r) => r.kind === 'smsOptOut' && r.recipient === handset) ? undefined : true));
    await eventually(() => (replies().length === 2 ? true : undefined));
    expect(replies()[1]!.text).toBe('NETWORK MSG: You have replied "unstop" and will begin receiving messages again from this number.');
    const accepted = await smsClient(stack, europe).send({ from: euNumber, to: [handset], message: 'Welcome back' });
    expect(accepted[0]).toMatchObject({ httpStatusCode: 202, successful: true });
  });

  it('HELP is answered and changes nothing', async () => {
    smscOf(stack).clear();
    smscOf(stack).inject(handset, euNumber, 'help');
    await eventually(() => (replies().length === 1 ? true : undefined));
    expect(replies()[0]!.text).toBe('NETWORK MSG: Reply STOP to stop receiving messages from this number, and START to receive them again.');
    expect((await itemsOf(stack, 'europe', 'smsRecords')).filter((r) => r.kind === 'smsOptOut' && r.recipient === handset)).toEqual([]);
  });
});

describe('the carrier link', () => {
  it('down: each recipient gets a clear 503 and nothing is sent; up again: the link rebinds and sends', async () => {
    smscOf(stack).clear();
    await stack.smsc!.server.setAvailable(false);
    const down = await smsClient(stack, europe).send({ from: euNumber, to: ['+447700900030', '+447700900031'], message: 'during the outage' });
    expect(down.map((r) => [r.httpStatusCode, r.successful, r.errorMessage])).toEqual(
      Array(2).fill([503, false, 'Service unavailable: the carrier connection is down; the message was not sent. Send it again later.']),
    );
    await stack.smsc!.server.setAvailable(true);
    await eventually(() => (stack.smsc!.server.sessions().some((s) => s.systemId === 'europe') ? true : undefined), 10_000, 'the Europe link to rebind');
    const up = await smsClient(stack, europe).send({ from: euNumber, to: ['+447700900030'], message: 'after the outage' });
    expect(up[0]).toMatchObject({ httpStatusCode: 202, successful: true });
    expect(smscOf(stack).messages().map((p) => p.text)).toEqual(['after the outage']);
  });
});
