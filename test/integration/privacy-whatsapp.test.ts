import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivacyClient } from '../support/privacy.js';
import { eventsOf, eventually, itemsOf } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { inject, messagesClient, registerChannel, type TestChannel } from '../support/whatsapp.js';

/**
 * A data subject request for a WhatsApp user's phone number: the business wrote to them (once with
 * a repeatability id) and to someone else, and they wrote back. The operation log records and
 * outbox entries that name their number are found, exported and erased; the dedupe marks and the
 * repeatability claim name no number, so there is nothing of them there; the other person's
 * records stay.
 */
let stack: TestStack;
let resource: ResourceView;
let channel: TestChannel;
let privacy: PrivacyClient;
const person = '+447700900310';
const other = '+447700900311';
const raw = (n: string) => `4:${n}`;
const naming = (items: Record<string, any>[], n: string) => items.filter((i) => JSON.stringify(i).includes(n.slice(1)));
const STATUS = 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated';

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_WHATSAPP_STATUS_DELAY_MS: '20' } });
  resource = await stack.createResource('dsr-whatsapp', 'Europe');
  channel = await registerChannel(stack, resource);
  privacy = new PrivacyClient(() => stack, resource);
  const send = (to: string[], content: string, headers: Record<string, string> = {}) =>
    messagesClient(stack, resource).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to, kind: 'text', content }, headers });
  expect((await send([person, other], 'Your results are ready')).status).toBe('202');
  expect((await send([person], 'Reminder: results', { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date().toUTCString() })).status).toBe('202');
  await inject(stack, channel, { from: person.slice(1), text: 'Thanks, got them' });
  // Three statuses for each of the three messages, and the person's message.
  await eventually(() => (eventsOf(stack, resource.id, STATUS).length === 9 ? true : undefined), 15_000, 'the statuses');
  await eventually(() => (eventsOf(stack, resource.id, 'Microsoft.Communication.AdvancedMessageReceived').length === 1 ? true : undefined));
  await eventually(async () => ((await itemsOf(stack, 'europe', 'outbox')).every((e) => e.status === 'published') ? true : undefined));
});
afterAll(async () => stack?.stop());

describe("a data subject request for a WhatsApp user's number", () => {
  it('inventory finds the log records and outbox entries naming the number, and nothing else', async () => {
    const logs = (await itemsOf(stack, 'europe', 'operationLogs')).filter((r) => r.subjects.includes(raw(person)));
    expect(logs.map((l) => l.operation).sort()).toEqual(['MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageReceived', 'SendMessage', 'SendMessage']);
    const listing = await privacy.result((await privacy.finished((await privacy.submit('inventory', { phoneNumbers: [person] })).id)).id);
    expect(listing.counts).toEqual({ operationLog: { found: 9, held: 0 }, outboxEntry: { found: 7, held: 0 } });
    // The records that stay a while name nobody: nothing to find there.
    expect(naming(await itemsOf(stack, 'europe', 'messageRecords'), person)).toEqual([]);
  });

  it("export holds the person's own log records, no message text, nobody else's number", async () => {
    const bundle = await privacy.result((await privacy.finished((await privacy.submit('export', { phoneNumbers: [person] })).id)).id);
    expect(bundle.data.operationLogs).toHaveLength(9);
    expect(bundle.data.operationLogs.every((l: { subjects: string[] }) => JSON.stringify(l.subjects) === JSON.stringify([raw(person)]))).toBe(true);
    const text = JSON.stringify(bundle);
    for (const words of ['Your results', 'Reminder', 'Thanks, got them', other.slice(1)]) expect(text).not.toContain(words);
  });

  it("delete erases them and leaves the other person's", async () => {
    const done = await privacy.finished((await privacy.submit('delete', { phoneNumbers: [person] })).id);
    expect(done.status).toBe('succeeded');
    const receipt = (await privacy.call('GET', `/privacy/receipts/${done.result.receiptId}`)).body;
    expect(receipt).toMatchObject({ deleted: { operationLog: 9, outboxEntry: 7 }, held: {}, holdIds: [] });
    for (const container of ['operationLogs', 'outbox', 'messageRecords', 'messageChannels']) expect(naming(await itemsOf(stack, 'europe', container), person)).toEqual([]);
    // The other person's three statuses stay (logs and events); the send that named both went whole.
    expect(naming(await itemsOf(stack, 'europe', 'operationLogs'), other).map((r) => r.operation)).toEqual(['MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated']);
    expect(naming(await itemsOf(stack, 'europe', 'outbox'), other)).toHaveLength(3);
  });
});
