import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf, eventually, itemsOf } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { allBlobs, allItems, inject, messagesClient, registerChannel, simulatorOf, simulatorPut, type TestChannel } from '../support/whatsapp.js';

/**
 * WhatsApp content is ephemeral: after sends of every kind (texts, captions, file names, template
 * values, to accepted and refused recipients, with and without repeatability), inbound messages
 * (text, a photo and a document whose bytes carry a marker, downloaded through the Messages API)
 * and every status update, once every event is published, no Cosmos item of any database and no
 * blob of any container holds any of the texts or the media bytes, while the events and WhatsApp
 * did get them (so they really went through).
 */
let stack: TestStack;
let full: ResourceView;
let minimal: ResourceView;
let channel: TestChannel;
let minimalChannel: TestChannel;

const M = {
  text: 'Marker-golf: your appointment is at 9',
  caption: 'Marker-hotel photo caption',
  docCaption: 'Marker-india document caption',
  fileName: 'Marker-juliet-results.pdf',
  template: 'Marker-kilo patient name',
  inbound: 'Marker-lima: I will be late',
  inboundMinimal: 'Marker-mike: private',
  inboundCaption: 'Marker-november inbound caption',
  inboundFileName: 'Marker-oscar-scan.pdf',
};
const MEDIA = Buffer.from('Marker-papa: the bytes of a photo no store may keep. '.repeat(200));
const DOC = Buffer.from('%PDF-1.7 Marker-quebec: the bytes of a lab report. '.repeat(300));
const USER = '447700900200';

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_WHATSAPP_STATUS_DELAY_MS: '20' } });
  full = await stack.createResource('wa-content-full', 'Europe');
  minimal = await stack.createResource('wa-content-minimal', 'Europe', { eventPayloads: 'minimal' });
  channel = await registerChannel(stack, full);
  minimalChannel = await registerChannel(stack, minimal);
  await simulatorPut(stack, '/api/refused-numbers', { numbers: ['447700900299'], code: 131030 });

  const send = (resource: ResourceView, ch: TestChannel, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    messagesClient(stack, resource).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: ch.id, to: [`+${USER}`], ...body } as never, headers });
  const answers = [
    await send(full, channel, { kind: 'text', content: M.text, to: [`+${USER}`, '+447700900201', '+447700900299'] }),
    await send(full, channel, { kind: 'image', mediaUri: 'https://example.com/x.jpg', caption: M.caption }, { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date().toUTCString() }),
    await send(full, channel, { kind: 'document', mediaUri: 'https://example.com/r.pdf', caption: M.docCaption, fileName: M.fileName }),
    await send(full, channel, { kind: 'template', template: { name: 'appointment_reminder', language: 'en_US', values: [{ kind: 'text', name: 'n', text: M.template }, { kind: 'text', name: 'd', text: 'Monday' }], bindings: { kind: 'whatsApp', body: [{ refValue: 'n' }, { refValue: 'd' }] } } }),
    await send(minimal, minimalChannel, { kind: 'text', content: M.text }),
  ];
  expect(answers.map((a) => a.status)).toEqual(['202', '202', '202', '202', '202']);

  await inject(stack, channel, { from: USER, text: M.inbound });
  await inject(stack, minimalChannel, { from: USER, text: M.inboundMinimal });
  const photo = await inject(stack, channel, { from: USER, type: 'image', media: { mimeType: 'image/jpeg', base64: MEDIA.toString('base64'), caption: M.inboundCaption } });
  await inject(stack, channel, { from: USER, type: 'document', media: { mimeType: 'application/pdf', base64: DOC.toString('base64'), fileName: M.inboundFileName } });
  const download = await messagesClient(stack, full).path('/messages/streams/{id}', photo.mediaId!).get().asNodeStream();
  const chunks: Buffer[] = [];
  for await (const chunk of download.body as AsyncIterable<Buffer>) chunks.push(chunk);
  expect(Buffer.concat(chunks).equals(MEDIA)).toBe(true);

  // 3 accepted sends with 3 statuses each (the first to two of its three recipients), the refused recipient's failed event.
  await eventually(() => (eventsOf(stack, full.id, 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated').length === 5 * 3 + 1 ? true : undefined), 15_000, 'the statuses');
  await eventually(() => (eventsOf(stack, minimal.id, 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated').length === 3 ? true : undefined), 15_000, 'the minimal statuses');
  await eventually(() => (eventsOf(stack, full.id, 'Microsoft.Communication.AdvancedMessageReceived').length === 3 && eventsOf(stack, minimal.id, 'Microsoft.Communication.AdvancedMessageReceived').length === 1 ? true : undefined), 15_000, 'the inbound events');
  await eventually(async () => ((await itemsOf(stack, 'europe', 'outbox')).every((e) => e.status === 'published') ? true : undefined), 15_000, 'publication');
});
afterAll(async () => stack?.stop());

describe('no store keeps WhatsApp content', () => {
  it('the content went through: WhatsApp got the outbound texts, the full-payload events carried the inbound ones, the minimal ones did not', () => {
    const outbound = JSON.stringify(simulatorOf(stack).state.sent.map((m) => m.body));
    for (const marker of [M.text, M.caption, M.docCaption, M.fileName, M.template]) expect(outbound).toContain(marker);
    const inbound = JSON.stringify(eventsOf(stack, full.id, 'Microsoft.Communication.AdvancedMessageReceived').map((e) => e.data));
    for (const marker of [M.inbound, M.inboundCaption, M.inboundFileName]) expect(inbound).toContain(marker);
    expect(JSON.stringify(eventsOf(stack, minimal.id, 'Microsoft.Communication.AdvancedMessageReceived'))).not.toContain('Marker-');
  });

  it('no Cosmos item of any database and no blob holds any text, caption, file name, template value or media byte', async () => {
    const items = await allItems(stack);
    const blobs = await allBlobs(stack);
    expect(items.length).toBeGreaterThan(30);
    const texts = [...items.map((i) => ({ where: i.where, text: JSON.stringify(i.item) })), ...blobs.map((b) => ({ where: b.where, text: [b.name, JSON.stringify(b.metadata), b.content.toString('latin1')].join('\n') }))];
    const markers = [...Object.values(M), 'Marker-', 'appointment is at', 'I will be late', MEDIA.subarray(0, 40).toString('latin1'), DOC.subarray(0, 40).toString('latin1'), MEDIA.toString('base64').slice(0, 40), DOC.toString('base64').slice(0, 40)];
    expect(texts.filter((t) => markers.some((m) => t.text.includes(m))).map((t) => t.where)).toEqual([]);
    for (const blob of blobs) {
      expect(blob.content.includes(MEDIA.subarray(0, 64))).toBe(false);
      expect(blob.content.includes(DOC.subarray(0, 64))).toBe(false);
    }
  });

  it('what does stay in Europe: the channels, the dedupe marks and the repeatability claim (no content, no number), logs and event records naming numbers', async () => {
    const records = await itemsOf(stack, 'europe', 'messageRecords');
    const kinds = records.map((r) => r.kind as string);
    // 4 inbound messages and 18 statuses (15 + 3; the refused recipient's failure was the service's own event).
    expect(kinds.filter((k) => k === 'whatsAppWebhookSeen')).toHaveLength(4 + 18);
    expect(kinds.filter((k) => k === 'messagesRepeatability')).toHaveLength(1);
    expect(kinds).toHaveLength(23);
    expect(JSON.stringify(records)).not.toMatch(/447700900|wamid/);
    const claim = records.find((r) => r.kind === 'messagesRepeatability')!;
    expect(claim.outcome).toEqual({ status: 202, messageIds: [expect.any(String)] });
    expect((await itemsOf(stack, 'europe', 'messageChannels')).map((c) => c.id).sort()).toEqual([channel.id, minimalChannel.id].sort());
    const logs = (await itemsOf(stack, 'europe', 'operationLogs')).filter((l) => l.resourceId === full.id);
    const count = (operation: string) => logs.filter((l) => l.operation === operation).length;
    expect([count('SendMessage'), count('MessageReceived'), count('MessageDeliveryStatusUpdated'), count('DownloadMedia')]).toEqual([4, 3, 15, 1]);
    expect(logs.find((l) => l.operation === 'SendMessage')!.subjects).toEqual([`4:+${USER}`, '4:+447700900201', '4:+447700900299']);
  });
});
