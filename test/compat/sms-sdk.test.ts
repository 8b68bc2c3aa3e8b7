import { SmsClient } from '@azure/communication-sms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpConnectionString } from '../support/sdk-options.js';
import { buyNumbers, importNumbers, itemsOf, smsClient, smscOf, tollFree } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * `SmsClient.send` of the official @azure/communication-sms 1.1 client (SMS API 2021-03-07): several
 * recipients with a result each, as ACS answers them, repeatability per recipient, and the
 * request-level errors. What the carrier receives is checked in test/integration/sms-carrier.test.ts.
 */
let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;
let from: string;

const MESSAGE_ID = /^Outgoing_\d{14}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe,Japan' } });
  resource = await stack.createResource('sms-sdk', 'Europe');
  other = await stack.createResource('sms-sdk-other', 'Europe');
  await importNumbers(stack, 'Europe', [tollFree('+18005550201'), tollFree('+18005550202', { capabilities: { calling: 'none', sms: 'inbound' } })]);
  [from] = (await buyNumbers(stack, resource, { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' } })) as [string];
});
afterAll(async () => stack?.stop());

const send = (body: Record<string, unknown>, key = resource.primaryKey) =>
  stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/sms?api-version=2021-03-07', key, body: JSON.stringify(body) });

describe('SmsClient.send', () => {
  it('sends to several recipients and answers each: accepted ones with a message id, an invalid number with ACS\'s 400', async () => {
    smscOf(stack).clear();
    const results = await smsClient(stack, resource).send({ from: from!, to: ['+14255550101', '+14255550102', '+1425', '+14255550103'], message: 'Your code is 1234' });
    expect(results).toHaveLength(4);
    expect(results.map((r) => r.to)).toEqual(['+14255550101', '+14255550102', '+1425', '+14255550103']);
    for (const index of [0, 1, 3]) {
      expect(results[index]).toEqual({ to: results[index]!.to, messageId: expect.stringMatching(MESSAGE_ID), httpStatusCode: 202, successful: true, repeatabilityResult: 'accepted' });
    }
    expect(results[2]).toEqual({ to: '+1425', httpStatusCode: 400, successful: false, errorMessage: 'Invalid To phone number format.', repeatabilityResult: 'rejected' });
    expect(new Set(results.map((r) => r.messageId).filter(Boolean)).size).toBe(3);
    const pdus = smscOf(stack).messages();
    expect(pdus.map((p) => p.destinationAddr).sort()).toEqual(['14255550101', '14255550102', '14255550103']);
    expect(pdus.every((p) => p.sourceAddr === from!.slice(1) && p.text === 'Your code is 1234' && p.registeredDelivery === 0)).toBe(true);
  });

  it('over plain HTTP too, with enableDeliveryReport and a tag', async () => {
    smscOf(stack).clear();
    const client = new SmsClient(httpConnectionString(stack, resource.connectionString), { allowInsecureConnection: true });
    const [result] = await client.send({ from: from!, to: ['+14255550104'], message: 'Hello' }, { enableDeliveryReport: true, tag: 'campaign-7' });
    expect(result).toMatchObject({ to: '+14255550104', httpStatusCode: 202, successful: true });
    expect(smscOf(stack).messages().map((p) => [p.destinationAddr, p.registeredDelivery])).toEqual([['14255550104', 1]]);
  });

  it('a repeated recipient request id sends once and answers the first outcome; another recipient under it is rejected; a bad first-sent is rejected', async () => {
    smscOf(stack).clear();
    const id = crypto.randomUUID();
    const firstSent = new Date().toUTCString();
    const body = { from, smsRecipients: [{ to: '+14255550105', repeatabilityRequestId: id, repeatabilityFirstSent: firstSent }], message: 'Once only' };
    const first = await send(body);
    const again = await send(body);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(first.body.value[0]).toEqual({ to: '+14255550105', messageId: expect.stringMatching(MESSAGE_ID), httpStatusCode: 202, successful: true, repeatabilityResult: 'accepted' });
    expect(again.body.value[0]).toEqual(first.body.value[0]);
    expect(smscOf(stack).messages()).toHaveLength(1);

    const reused = await send({ ...body, smsRecipients: [{ to: '+14255550106', repeatabilityRequestId: id, repeatabilityFirstSent: firstSent }] });
    expect(reused.body.value[0]).toEqual({ to: '+14255550106', httpStatusCode: 409, successful: false, errorMessage: 'The repeatability-request-id was already used for another request.', repeatabilityResult: 'rejected' });
    const badDate = await send({ ...body, smsRecipients: [{ to: '+14255550107', repeatabilityRequestId: crypto.randomUUID(), repeatabilityFirstSent: '2026-12-02T10:00:00Z' }] });
    expect(badDate.body.value[0]).toEqual({
      to: '+14255550107',
      httpStatusCode: 400,
      successful: false,
      errorMessage: 'Request sent with Invalid DateTime value for repeatability-first-sent. Expected is DateTime ,RFC1123 pattern.',
      repeatabilityResult: 'rejected',
    });
    const stale = await send({ ...body, smsRecipients: [{ to: '+14255550107', repeatabilityRequestId: crypto.randomUUID(), repeatabilityFirstSent: new Date(Date.now() - 25 * 3_600_000).toUTCString() }] });
    expect(stale.body.value[0]).toMatchObject({ httpStatusCode: 400, repeatabilityResult: 'rejected' });
    // Without repeatability there is no repeatabilityResult.
    const plain = await send({ from, smsRecipients: [{ to: '+14255550108' }], message: 'No id' });
    expect(plain.body.value[0]).toEqual({ to: '+14255550108', messageId: expect.stringMatching(MESSAGE_ID), httpStatusCode: 202, successful: true });
    expect(smscOf(stack).messages().map((p) => p.destinationAddr)).toEqual(['14255550105', '14255550108']);
    // The claim keeps the outcome, never the text.
    const claims = (await itemsOf(stack, 'europe', 'smsRecords')).filter((r) => r.kind === 'smsRepeatability' && r.recipient === '+14255550105');
    expect(claims).toHaveLength(1);
    expect(JSON.stringify(claims[0])).not.toContain('Once only');
  });

  it('refuses a from number that is not the resource\'s, or cannot send, naming the field; sends nothing', async () => {
    smscOf(stack).clear();
    await expect(smsClient(stack, other).send({ from: from!, to: ['+14255550109'], message: 'x' })).rejects.toMatchObject({ statusCode: 403, code: 'Forbidden' });
    const notOurs = await send({ from: '+18005550202', smsRecipients: [{ to: '+14255550109' }], message: 'x' });
    expect(notOurs.status).toBe(403);
    expect(notOurs.body.error).toMatchObject({ code: 'Forbidden', target: 'from' });
    const inboundOnly = await buyNumbers(stack, other, { countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound' } });
    const cannot = await stack.signed({ method: 'POST', endpoint: other.endpoint, path: '/sms?api-version=2021-03-07', key: other.primaryKey, body: JSON.stringify({ from: inboundOnly[0], smsRecipients: [{ to: '+14255550109' }], message: 'x' }) });
    expect(cannot.status).toBe(403);
    expect(cannot.body.error.message).toBe(`The from phone number ${inboundOnly[0]} does not have outbound SMS enabled (capabilities sms 'inbound').`);
    expect(smscOf(stack).messages()).toEqual([]);
  });

  it('validates the body as ACS: the field is named and nothing is sent', async () => {
    smscOf(stack).clear();
    const cases: [Record<string, unknown>, string][] = [
      [{ from: '18005550201', smsRecipients: [{ to: '+14255550110' }], message: 'x' }, 'from'],
      [{ from, smsRecipients: [], message: 'x' }, 'smsRecipients'],
      [{ from, smsRecipients: Array.from({ length: 101 }, (_, i) => ({ to: `+1425555${String(i).padStart(4, '0')}` })), message: 'x' }, 'smsRecipients'],
      [{ from, smsRecipients: [{ to: '+14255550110' }], message: 'x'.repeat(2049) }, 'message'],
      [{ from, smsRecipients: [{ to: '+14255550110' }] }, 'message'],
    ];
    for (const [body, target] of cases) {
      const response = await send(body);
      expect(response.status, target).toBe(400);
      expect(response.body.error).toMatchObject({ code: 'ValidationError', target });
    }
    expect(smscOf(stack).messages()).toEqual([]);
  });
});
