import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';
import { acsMessageId } from '../../shared/whatsapp/advanced-message-events.js';
import { seenId } from '../../shared/whatsapp/message-records.js';
import { webhookSignature } from '../../shared/whatsapp/webhook-signature.js';
import { eventsOf, eventually, itemsOf } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { allItems, inject, messagesClient, notification, postWebhook, redeliverAll, registerChannel, simulatorOf, simulatorPut, type TestChannel } from '../support/whatsapp.js';

/**
 * WhatsApp's webhook: a notification whose signature does not match the channel's app secret
 * changes nothing; user messages and status updates become AdvancedMessageReceived and
 * AdvancedMessageDeliveryStatusUpdated events in the ACS shapes, each exactly once however often
 * WhatsApp delivers them; minimal payloads carry no content; the dedupe marks hold no number.
 */
let stack: TestStack;
let full: ResourceView;
let minimal: ResourceView;
let channel: TestChannel;
let minimalChannel: TestChannel;

const RECEIVED = 'Microsoft.Communication.AdvancedMessageReceived';
const STATUS = 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated';
const USER = '447700900123';

beforeAll(async () => {
  // No timer runs on its schedule: a purge run writes its run record between two snapshots that must be
  // equal (seen with every schedule at 2 s; on the quarter hour with the defaults).
  stack = await startTestStack({ env: { ...SCHEDULED_TIMERS_OFF, ENABLED_GEOGRAPHIES: 'Europe', LOCAL_WHATSAPP_STATUS_DELAY_MS: '30' } });
  full = await stack.createResource('wa-webhook', 'Europe');
  minimal = await stack.createResource('wa-webhook-minimal', 'Europe', { eventPayloads: 'minimal' });
  channel = await registerChannel(stack, full);
  minimalChannel = await registerChannel(stack, minimal);
});
afterAll(async () => stack?.stop());

const received = (resource = full) => eventsOf(stack, resource.id, RECEIVED);
const statuses = (resource = full) => eventsOf(stack, resource.id, STATUS);
const seenMarks = async () => (await itemsOf(stack, 'europe', 'messageRecords')).filter((r) => r.kind === 'whatsAppWebhookSeen');
const quiet = () => new Promise((resolve) => setTimeout(resolve, 300));

describe('a notification that is not signed with the channel\'s app secret', () => {
  const forged = () => notification(channel, { contacts: [{ profile: { name: 'Mallory' }, wa_id: USER }], messages: [{ from: USER, id: `wamid.${randomBytes(12).toString('hex')}`, timestamp: '1764662400', type: 'text', text: { body: 'Forged-marker: send me money' } }] });

  it.each([
    ['signed with another secret', { secret: 'not-the-app-secret' }],
    ['without a signature', { signature: null }],
    ['with a SHA-1 signature only', { signature: 'sha1=0123456789abcdef0123456789abcdef01234567' }],
    ['with a signature of another body', { signature: 'sha256=' + '0'.repeat(64) }],
    ['with a malformed signature', { signature: 'sha256=zz' }],
  ])('%s: 401 without detail, and nothing changes: no store, no event', async (_, options) => {
    const before = await allItems(stack);
    const events = stack.topic!.received().length;
    const response = await postWebhook(stack, channel, forged(), options);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'Unauthorized', message: 'The request is not authorized.' } });
    await quiet();
    expect(await allItems(stack)).toEqual(before);
    expect(stack.topic!.received().length).toBe(events);
  });

  it('a correctly signed body that was altered after signing: 401, nothing changes', async () => {
    const before = await allItems(stack);
    const body = forged();
    const signature = webhookSignature(body, stack.env.WHATSAPP_LOCAL_APP_SECRET!);
    const response = await postWebhook(stack, channel, body.replace('send me money', 'send me MORE money'), { signature });
    expect(response.status).toBe(401);
    expect(await allItems(stack)).toEqual(before);
  });

  it('an unknown channel or resource: the same 401', async () => {
    const before = await allItems(stack);
    for (const url of [channel.webhookUrl.replace(channel.id, '00000000-0000-4000-8000-000000000000'), channel.webhookUrl.replace('/wa-webhook/', '/nobody/')]) {
      const response = await postWebhook(stack, channel, forged(), { url });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: { code: 'Unauthorized', message: 'The request is not authorized.' } });
    }
    expect(await allItems(stack)).toEqual(before);
  });

  it('signed, but not a WhatsApp notification: 400, nothing stored', async () => {
    const before = await allItems(stack);
    const response = await postWebhook(stack, channel, JSON.stringify({ object: 'page', entry: [] }));
    expect(response.status).toBe(400);
    expect(await allItems(stack)).toEqual(before);
  });
});

describe('an inbound message', () => {
  it('becomes one AdvancedMessageReceived, however often WhatsApp delivers it', async () => {
    const before = (await seenMarks()).length;
    const { messageId: wamid, deliveries } = await inject(stack, channel, { from: USER, text: 'Hello from WhatsApp', deliveries: 3 });
    expect(deliveries).toHaveLength(3);
    await eventually(() => (simulatorOf(stack).state.deliveries.filter((d) => deliveries.includes(d.id) && d.state === 'delivered').length === 3 ? true : undefined));
    expect((await redeliverAll(stack)).statuses.every((s) => s === 200)).toBe(true);
    await quiet();
    const events = received().filter((e) => e.data.messageId === acsMessageId(channel.id, wamid));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: RECEIVED,
      source: `/resources/${full.id}`,
      subject: `advancedMessage/sender/${USER}/recipient/${channel.id}`,
      data: { from: USER, to: channel.id, channelType: 'whatsapp', messageType: 'text', content: 'Hello from WhatsApp', messageId: acsMessageId(channel.id, wamid), receivedTimestamp: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/) },
    });
    // One dedupe mark, naming neither the number nor WhatsApp's id (a wamid encodes the number).
    const marks = await seenMarks();
    expect(marks.length).toBe(before + 1);
    const { _rid, _self, _etag, _attachments, _ts, ...mark } = marks.find((m) => m.id === seenId(full.id, channel.id, `message:${wamid}`))!;
    expect(mark).toEqual({ id: expect.stringMatching(/^seen-[0-9a-f]{48}$/), resourceId: full.id, kind: 'whatsAppWebhookSeen', seenAt: expect.any(String), expiresAt: expect.any(String), changeStamp: expect.any(Object) });
    expect(Date.parse(mark.expiresAt) - Date.parse(mark.seenAt)).toBe(168 * 3_600_000);
    for (const m of marks) expect(JSON.stringify(m)).not.toMatch(new RegExp(`${USER}|wamid`));
  });

  it('two deliveries at the same moment still make one event', async () => {
    const wamid = `wamid.${randomBytes(18).toString('base64url')}`;
    const body = notification(channel, { messages: [{ from: USER, id: wamid, timestamp: '1764662400', type: 'text', text: { body: 'twice at once' } }] });
    const answers = await Promise.all([postWebhook(stack, channel, body), postWebhook(stack, channel, body), postWebhook(stack, channel, body)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    await quiet();
    expect(received().filter((e) => e.data.messageId === acsMessageId(channel.id, wamid))).toHaveLength(1);
  });

  it('each kind in the ACS shape: media with its id (to download), caption and file name, reaction and reply to our message, buttons, list replies', async () => {
    const send = await messagesClient(stack, full).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: [`+${USER}`], kind: 'text', content: 'Our question' } });
    const ours = (send.body as { receipts: { messageId: string }[] }).receipts[0]!.messageId;
    const ourWamid = simulatorOf(stack).state.sent.at(-1)!.id;
    const cases: [Record<string, unknown>, (ids: { mediaId?: string }) => Record<string, unknown>][] = [
      [{ type: 'image', media: { mimeType: 'image/jpeg', base64: 'AAEC', caption: 'a photo' } }, ({ mediaId }) => ({ messageType: 'image', media: { mimeType: 'image/jpeg', id: mediaId, caption: 'a photo' } })],
      [{ type: 'document', media: { mimeType: 'application/pdf', base64: 'JVBE', fileName: 'invoice.pdf', caption: 'the invoice' } }, ({ mediaId }) => ({ messageType: 'document', media: { mimeType: 'application/pdf', id: mediaId, fileName: 'invoice.pdf', caption: 'the invoice' } })],
      [{ type: 'audio', media: { mimeType: 'audio/ogg', base64: 'T2dn' } }, ({ mediaId }) => ({ messageType: 'audio', media: { mimeType: 'audio/ogg', id: mediaId } })],
      [{ type: 'sticker', media: { mimeType: 'image/webp', base64: 'UklG' } }, ({ mediaId }) => ({ messageType: 'sticker', media: { mimeType: 'image/webp', id: mediaId, animated: false } })],
      [{ type: 'reaction', reaction: { messageId: ourWamid, emoji: '👍' } }, () => ({ messageType: 'reaction', reaction: { messageId: ours, emoji: '👍' } })],
      [{ type: 'button', button: { text: 'Yes', payload: 'yes-payload' } }, () => ({ messageType: 'button', button: { text: 'Yes', payload: 'yes-payload' } })],
      [{ type: 'interactive', interactive: { type: 'list_reply', id: 'row-2', title: 'Tuesday', description: 'morning' } }, () => ({ messageType: 'interactive', interactive: { type: 'listReply', listReply: { id: 'row-2', title: 'Tuesday', description: 'morning' } } })],
      [{ type: 'interactive', interactive: { type: 'button_reply', id: 'b-1', title: 'Confirm' } }, () => ({ messageType: 'interactive', interactive: { type: 'buttonReply', buttonReply: { id: 'b-1', title: 'Confirm' } } })],
      [{ type: 'text', text: 'a reply', context: { messageId: ourWamid } }, () => ({ messageType: 'text', content: 'a reply', context: { from: USER, id: ours } })],
      [{ type: 'location', location: { latitude: 51.5, longitude: -0.12 } }, () => ({ messageType: 'location' })],
    ];
    for (const [message, expected] of cases) {
      const { messageId: wamid, mediaId } = await inject(stack, channel, { from: USER, ...message });
      const event = await eventually(() => received().find((e) => e.data.messageId === acsMessageId(channel.id, wamid)));
      expect(event.data).toEqual({ from: USER, to: channel.id, receivedTimestamp: expect.any(String), channelType: 'whatsapp', messageId: acsMessageId(channel.id, wamid), ...expected({ ...(mediaId ? { mediaId } : {}) }) });
    }
  });
});

describe('status updates', () => {
  it('sent, delivered and read: one event each, however often delivered, the receipt\'s message id on each', async () => {
    const send = await messagesClient(stack, full).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: [`+${USER}`], kind: 'text', content: 'Track me' } });
    const messageId = (send.body as { receipts: { messageId: string }[] }).receipts[0]!.messageId;
    const mine = () => statuses().filter((e) => e.data.messageId === messageId);
    await eventually(() => (mine().length === 3 ? true : undefined), 10_000, 'three statuses');
    await redeliverAll(stack);
    await redeliverAll(stack);
    await quiet();
    expect(mine().map((e) => [e.subject, e.data])).toEqual(
      ['sent', 'delivered', 'read'].map((status) => [
        `advancedMessage/${messageId}/status/${status.charAt(0).toUpperCase()}${status.slice(1)}`,
        { messageId, status, channelType: 'whatsapp', from: channel.id, to: USER, receivedTimestamp: expect.any(String) },
      ]),
    );
  });

  it('a number whose message WhatsApp cannot deliver: failed, with WhatsApp\'s error', async () => {
    await simulatorPut(stack, '/api/failing-numbers', { numbers: ['447700900666'] });
    const send = await messagesClient(stack, full).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: ['+447700900666'], kind: 'text', content: 'Lost' } });
    expect(send.status).toBe('202');
    const messageId = (send.body as { receipts: { messageId: string }[] }).receipts[0]!.messageId;
    const event = await eventually(() => statuses().find((e) => e.data.messageId === messageId));
    expect(event.subject).toBe(`advancedMessage/${messageId}/status/Failed`);
    expect(event.data).toEqual({ messageId, status: 'failed', channelType: 'whatsapp', from: channel.id, to: '447700900666', receivedTimestamp: expect.any(String), error: { channelCode: '131026', channelMessage: 'Message undeliverable' } });
    await quiet();
    expect(statuses().filter((e) => e.data.messageId === messageId)).toHaveLength(1);
  });
});

describe('what the channel does not own, and minimal payloads', () => {
  it("items of another phone number or business account in the channel's webhook are ignored", async () => {
    const events = stack.topic!.received().length;
    const message = { from: USER, id: `wamid.${randomBytes(12).toString('hex')}`, timestamp: '1764662400', type: 'text', text: { body: 'not yours' } };
    for (const overrides of [{ phoneNumberId: '999' }, { businessAccountId: '999' }]) {
      const response = await postWebhook(stack, channel, notification(channel, { messages: [message] }, overrides));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ events: 0, duplicates: 0, ignored: 1 });
    }
    await quiet();
    expect(stack.topic!.received().length).toBe(events);
  });

  it('a minimal-payload resource gets ids, types and media ids, no text, caption, file name, emoji or reply text', async () => {
    const cases = [
      { text: 'Minimal-marker text' },
      { type: 'document', media: { mimeType: 'application/pdf', base64: 'JVBE', fileName: 'Minimal-marker.pdf', caption: 'Minimal-marker caption' } },
      { type: 'reaction', reaction: { messageId: 'wamid.x', emoji: '🎉' } },
      { type: 'button', button: { text: 'Minimal-marker button', payload: 'p' } },
      { type: 'interactive', interactive: { type: 'button_reply', id: 'b', title: 'Minimal-marker title' } },
    ];
    const wamids: string[] = [];
    for (const message of cases) wamids.push((await inject(stack, minimalChannel, { from: USER, ...message })).messageId);
    await eventually(() => (received(minimal).length === cases.length ? true : undefined));
    const data = received(minimal).map((e) => e.data as Record<string, unknown>);
    expect(JSON.stringify(data)).not.toMatch(/Minimal-marker|🎉/);
    expect(data.map((d) => d.messageType).sort()).toEqual(['button', 'document', 'interactive', 'reaction', 'text']);
    const document = data.find((d) => d.messageType === 'document')!;
    expect(document).toEqual({ from: USER, to: minimalChannel.id, receivedTimestamp: expect.any(String), channelType: 'whatsapp', messageId: acsMessageId(minimalChannel.id, wamids[1]!), messageType: 'document', media: { mimeType: 'application/pdf', id: expect.any(String) } });
    expect(data.find((d) => d.messageType === 'reaction')).toMatchObject({ reaction: { messageId: acsMessageId(minimalChannel.id, 'wamid.x') } });
  });
});
