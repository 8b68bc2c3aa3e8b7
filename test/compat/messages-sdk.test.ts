import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acsMessageId } from '../../shared/whatsapp/advanced-message-events.js';
import { eventsOf, eventually } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { createMessagesClient, messagesClient, messagesOptions, registerChannel, simulatorOf, simulatorPut, type TestChannel } from '../support/whatsapp.js';

/**
 * The official Advanced Messaging client, @azure-rest/communication-messages 2.0 (Messages API
 * 2024-08-30), against the service and the embedded WhatsApp Cloud API simulator: every message
 * kind (and exactly what WhatsApp received for it), repeatability and the errors (templates and
 * media: messages-sdk-reads.test.ts).
 */
let stack: TestStack;
let resource: ResourceView;
let channel: TestChannel;

const USER = '+14255550123';
const USER_DIGITS = '14255550123';
const STATUS = 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated';

beforeAll(async () => {
  stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe', LOCAL_WHATSAPP_STATUS_DELAY_MS: '3600000', WHATSAPP_EXPIRED_TOKEN: 'EAAexpired' } });
  resource = await stack.createResource('messages-sdk', 'Europe');
  channel = await registerChannel(stack, resource);
});
afterAll(async () => stack?.stop());

const client = () => messagesClient(stack, resource);
const sent = () => simulatorOf(stack).state.sent;
const send = (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  client().path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: [USER], ...body } as never, headers });
const common = { messaging_product: 'whatsapp', recipient_type: 'individual', to: USER_DIGITS };

describe('sending every kind of message', () => {
  const kinds: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['text', { kind: 'text', content: 'Your order has shipped.' }, { type: 'text', text: { body: 'Your order has shipped.', preview_url: false } }],
    ['image', { kind: 'image', mediaUri: 'https://example.com/image.jpg', caption: 'check out this image!' }, { type: 'image', image: { link: 'https://example.com/image.jpg', caption: 'check out this image!' } }],
    ['image_v0 (deprecated)', { kind: 'image_v0', mediaUri: 'https://example.com/old.png', content: 'legacy caption' }, { type: 'image', image: { link: 'https://example.com/old.png', caption: 'legacy caption' } }],
    [
      'document',
      { kind: 'document', mediaUri: 'https://example.com/document.pdf', caption: 'check out this document!', fileName: 'fileName.pdf' },
      { type: 'document', document: { link: 'https://example.com/document.pdf', caption: 'check out this document!', filename: 'fileName.pdf' } },
    ],
    ['video', { kind: 'video', mediaUri: 'https://example.com/video.mp4', caption: 'check out this video!' }, { type: 'video', video: { link: 'https://example.com/video.mp4', caption: 'check out this video!' } }],
    ['audio', { kind: 'audio', mediaUri: 'https://example.com/audio.mp3' }, { type: 'audio', audio: { link: 'https://example.com/audio.mp3' } }],
    [
      'template with quick replies (the SDK README sample)',
      {
        kind: 'template',
        template: {
          name: 'sample_issue_resolution',
          language: 'en_US',
          values: [
            { kind: 'text', name: 'name', text: 'Arif' },
            { kind: 'quickAction', name: 'Yes', payload: 'Yes' },
            { kind: 'quickAction', name: 'No', payload: 'No' },
          ],
          bindings: { kind: 'whatsApp', body: [{ refValue: 'name' }], buttons: [{ subType: 'quickReply', refValue: 'Yes' }, { subType: 'quickReply', refValue: 'No' }] },
        },
      },
      {
        type: 'template',
        template: {
          name: 'sample_issue_resolution',
          language: { code: 'en_US' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: 'Arif' }] },
            { type: 'button', sub_type: 'quick_reply', index: '0', parameters: [{ type: 'payload', payload: 'Yes' }] },
            { type: 'button', sub_type: 'quick_reply', index: '1', parameters: [{ type: 'payload', payload: 'No' }] },
          ],
        },
      },
    ],
    [
      'template with a media header, a location and a URL button',
      {
        kind: 'template',
        template: {
          name: 'sample_purchase_feedback',
          language: 'en_US',
          values: [
            { kind: 'image', name: 'banner', url: 'https://example.com/banner.jpg' },
            { kind: 'text', name: 'product', text: 'the blue kettle' },
            { kind: 'quickAction', name: 'survey', text: 'kettle-survey' },
          ],
          bindings: { kind: 'whatsApp', header: [{ refValue: 'banner' }], body: [{ refValue: 'product' }], buttons: [{ subType: 'url', refValue: 'survey' }] },
        },
      },
      {
        type: 'template',
        template: {
          name: 'sample_purchase_feedback',
          language: { code: 'en_US' },
          components: [
            { type: 'header', parameters: [{ type: 'image', image: { link: 'https://example.com/banner.jpg' } }] },
            { type: 'body', parameters: [{ type: 'text', text: 'the blue kettle' }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'kettle-survey' }] },
          ],
        },
      },
    ],
    [
      'template without values',
      { kind: 'template', template: { name: 'sample_shipping_confirmation', language: 'en_US' } },
      { type: 'template', template: { name: 'sample_shipping_confirmation', language: { code: 'en_US' } } },
    ],
    [
      'template with a location header',
      {
        kind: 'template',
        template: {
          name: 'order_update',
          language: 'en_US',
          values: [
            { kind: 'location', name: 'shop', latitude: 47.6, longitude: -122.3, locationName: 'Shop', address: '1 Main St' },
            { kind: 'text', name: 'order', text: 'A-17' },
          ],
          bindings: { kind: 'whatsApp', header: [{ refValue: 'shop' }], body: [{ refValue: 'order' }] },
        },
      },
      {
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [
            { type: 'header', parameters: [{ type: 'location', location: { latitude: 47.6, longitude: -122.3, name: 'Shop', address: '1 Main St' } }] },
            { type: 'body', parameters: [{ type: 'text', text: 'A-17' }] },
          ],
        },
      },
    ],
  ];

  it.each(kinds)('%s: 202, one receipt, and WhatsApp received exactly the Graph message', async (_, body, graph) => {
    const before = sent().length;
    const result = await send(body);
    expect(result.status).toBe('202');
    expect(sent().length).toBe(before + 1);
    const received = sent().at(-1)!;
    expect(received.phoneNumberId).toBe(channel.phoneNumberId);
    expect(received.body).toEqual({ ...common, ...graph });
    expect(result.body).toEqual({ receipts: [{ messageId: acsMessageId(channel.id, received.id), to: USER }] });
    expect((result.body as { receipts: { messageId: string }[] }).receipts[0]!.messageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('several recipients: one Graph request each, receipts in the order of to, with to as the caller wrote it', async () => {
    const before = sent().length;
    const to = ['+14255550124', '14255550125', '+1 (425) 555-0126'];
    const result = await send({ to, kind: 'text', content: 'To all three' });
    expect(result.status).toBe('202');
    const graph = sent().slice(before);
    expect(graph.map((m) => m.to).sort()).toEqual(['14255550124', '14255550125', '14255550126']);
    const byNumber = new Map(graph.map((m) => [m.to, m.id]));
    expect(result.body).toEqual({ receipts: to.map((t, i) => ({ messageId: acsMessageId(channel.id, byNumber.get(['14255550124', '14255550125', '14255550126'][i]!)!), to: t })) });
  });

  it('also over plain HTTP with the path form (curl, signed by hand): the same answer', async () => {
    const before = sent().length;
    const response = await stack.signed({
      method: 'POST',
      endpoint: resource.endpoint,
      path: '/messages/notifications:send?api-version=2024-08-30',
      key: resource.primaryKey,
      body: JSON.stringify({ channelRegistrationId: channel.id, to: [USER], kind: 'text', content: 'path form' }),
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ receipts: [{ messageId: acsMessageId(channel.id, sent()[before]!.id), to: USER }] });
  });
});

describe('repeatability (Repeatability-Request-ID, Repeatability-First-Sent)', () => {
  it('a repeat answers the first receipts and sends nothing; another body under the id is a 409; no first-sent is a 400', async () => {
    const headers = { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date().toUTCString() };
    const before = sent().length;
    const first = await send({ to: [USER, '+14255550127'], kind: 'text', content: 'Once' }, headers);
    const again = await send({ to: [USER, '+14255550127'], kind: 'text', content: 'Once' }, headers);
    expect(first.status).toBe('202');
    expect(again.status).toBe('202');
    expect(first.headers['repeatability-result']).toBe('accepted');
    expect(again.headers['repeatability-result']).toBe('accepted');
    expect(again.body).toEqual(first.body);
    expect(sent().length).toBe(before + 2);

    const other = await send({ to: [USER], kind: 'text', content: 'Another body' }, headers);
    expect(other.status).toBe('409');
    expect(other.headers['repeatability-result']).toBe('rejected');
    expect(other.headers['x-ms-error-code']).toBe('Conflict');
    const noDate = await send({ kind: 'text', content: 'x' }, { 'Repeatability-Request-ID': randomUUID() });
    expect(noDate.status).toBe('400');
    expect(noDate.headers['repeatability-result']).toBe('rejected');
    expect(noDate.body).toMatchObject({ error: { code: 'ValidationError', target: 'Repeatability-First-Sent' } });
    const stale = await send({ kind: 'text', content: 'x' }, { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date(Date.now() - 25 * 3_600_000).toUTCString() });
    expect(stale.status).toBe('400');
    expect(sent().length).toBe(before + 2);
    // Without the headers there is no Repeatability-Result.
    expect((await send({ kind: 'text', content: 'plain' })).headers['repeatability-result']).toBeUndefined();
  });

  it('an outcome WhatsApp refused for good is answered again; one that may pass (throttled) is retried', async () => {
    await simulatorPut(stack, '/api/refused-numbers', { numbers: ['14255550130'], code: 131030 });
    const refused = { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date().toUTCString() };
    const first = await send({ to: ['+14255550130'], kind: 'text', content: 'x' }, refused);
    const again = await send({ to: ['+14255550130'], kind: 'text', content: 'x' }, refused);
    expect([first.status, again.status]).toEqual(['400', '400']);
    expect(again.body).toEqual(first.body);
    expect(again.headers['repeatability-result']).toBe('accepted');

    await simulatorPut(stack, '/api/refused-numbers', { numbers: ['14255550131'], code: 130429 });
    const throttled = { 'Repeatability-Request-ID': randomUUID(), 'Repeatability-First-Sent': new Date().toUTCString() };
    const busy = await send({ to: ['+14255550131'], kind: 'text', content: 'y' }, throttled);
    expect(busy.status).toBe('429');
    expect(busy.headers['retry-after']).toBe('60');
    await simulatorPut(stack, '/api/refused-numbers', { numbers: [] });
    const before = sent().length;
    const retried = await send({ to: ['+14255550131'], kind: 'text', content: 'y' }, throttled);
    expect(retried.status).toBe('202');
    expect(sent().length).toBe(before + 1);
  });
});

describe('errors', () => {
  it('an unknown channel: 404 naming channelRegistrationId, with x-ms-error-code', async () => {
    const result = await client().path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: randomUUID(), to: [USER], kind: 'text', content: 'x' } });
    expect(result.status).toBe('404');
    expect(result.headers['x-ms-error-code']).toBe('NotFound');
    expect(result.body).toMatchObject({ error: { code: 'NotFound', target: 'channelRegistrationId' } });
    const templates = await client().path('/messages/channels/{channelId}/templates', randomUUID()).get();
    expect(templates.status).toBe('404');
  });

  it.each([
    ['a kind of a later API version', { kind: 'reaction', emoji: '👍', messageId: 'x' }, 'kind'],
    ['a text without content', { kind: 'text' }, 'content'],
    ['a media URI that is not a URL', { kind: 'image', mediaUri: 'file:///etc/passwd' }, 'mediaUri'],
    ['a recipient that is not a number', { kind: 'text', content: 'x', to: ['bob'] }, 'to.0'],
    ['a binding to a missing value', { kind: 'template', template: { name: 'x', language: 'en', values: [], bindings: { kind: 'whatsApp', body: [{ refValue: 'nope' }] } } }, 'template.bindings.body.0.refValue'],
  ])('%s: 400 ValidationError naming the field, nothing sent', async (_, body, target) => {
    const before = sent().length;
    const result = await send(body);
    expect(result.status).toBe('400');
    expect(result.headers['x-ms-error-code']).toBe('ValidationError');
    expect(result.body).toMatchObject({ error: { code: 'ValidationError', target } });
    expect(sent().length).toBe(before);
  });

  it('a wrong key: 401', async () => {
    const wrong = createMessagesClient(resource.connectionString.replace(/accesskey=.*/, `accesskey=${Buffer.alloc(32, 1).toString('base64')}`), messagesOptions(stack));
    const result = await wrong.path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: channel.id, to: [USER], kind: 'text', content: 'x' } });
    expect(result.status).toBe('401');
    expect(result.headers['x-ms-error-code']).toBe('Unauthorized');
  });

  it('WhatsApp refuses the only recipient: its error as ACS error, WhatsApp code in details', async () => {
    await simulatorPut(stack, '/api/refused-numbers', { numbers: ['14255550140'], code: 131030 });
    const result = await send({ to: ['+14255550140'], kind: 'text', content: 'x' });
    expect(result.status).toBe('400');
    expect(result.headers['x-ms-error-code']).toBe('BadRequest');
    expect(result.body).toEqual({
      error: {
        code: 'BadRequest',
        message: 'The message to to.0 was not sent: WhatsApp error 131030: (#131030) Recipient phone number not in allowed list (Recipient phone number not in allowed list.).',
        target: 'to.0',
        details: [{ code: '131030', message: expect.stringContaining('131030'), target: 'to.0' }],
      },
    });
  });

  it("WhatsApp refuses one of two: 202 with both receipts, and the refused one's failed status event", async () => {
    await simulatorPut(stack, '/api/refused-numbers', { numbers: ['14255550141'], code: 131030 });
    const result = await send({ to: ['+14255550142', '+14255550141'], kind: 'text', content: 'x' });
    expect(result.status).toBe('202');
    const [ok, refused] = (result.body as { receipts: { messageId: string; to: string }[] }).receipts as unknown as [{ messageId: string }, { messageId: string }];
    expect(ok.messageId).toBe(acsMessageId(channel.id, sent().at(-1)!.id));
    const failed = await eventually(() => eventsOf(stack, resource.id, STATUS).find((e) => e.data.messageId === refused.messageId));
    expect(failed.subject).toBe(`advancedMessage/${refused.messageId}/status/Failed`);
    expect(failed.data).toEqual({
      messageId: refused.messageId,
      status: 'failed',
      channelType: 'whatsapp',
      from: channel.id,
      to: '14255550141',
      receivedTimestamp: expect.any(String),
      error: { channelCode: '131030', channelMessage: expect.stringContaining('Recipient phone number not in allowed list') },
    });
  });

  it("WhatsApp refuses the channel's token: 403", async () => {
    const other = await stack.createResource('messages-sdk-expired', 'Europe');
    const put = await stack.management('PUT', `/api/management/resources/${other.name}/channels/${randomUUID()}`, {
      phoneNumberId: '100200300',
      businessAccountId: '400500600',
      accessTokenSetting: 'WHATSAPP_EXPIRED_TOKEN',
      appSecretSetting: 'WHATSAPP_LOCAL_APP_SECRET',
      webhookVerifyToken: 'verify-me-please',
    });
    expect(put.status).toBe(201);
    const result = await messagesClient(stack, other).path('/messages/notifications:send').post({ contentType: 'application/json', body: { channelRegistrationId: put.body.id, to: [USER], kind: 'text', content: 'x' } });
    expect(result.status).toBe('403');
    expect(result.body).toMatchObject({ error: { code: 'Forbidden', details: [{ code: '190' }] } });
    const templates = await messagesClient(stack, other).path('/messages/channels/{channelId}/templates', put.body.id as string).get();
    expect(templates.status).toBe('403');
  });

  it('WhatsApp unavailable (131000): 503 with Retry-After', async () => {
    await simulatorPut(stack, '/api/refused-numbers', { numbers: ['14255550150'], code: 131000 });
    const result = await send({ to: ['+14255550150'], kind: 'text', content: 'x' });
    expect(result.status).toBe('503');
    expect(result.headers['retry-after']).toBe('5');
    expect(result.headers['x-ms-error-code']).toBe('ServiceUnavailable');
  });

  it('echoes x-ms-client-request-id', async () => {
    const id = randomUUID();
    const result = await send({ kind: 'text', content: 'x' }, { 'x-ms-client-request-id': id });
    expect(result.headers['x-ms-client-request-id']).toBe(id);
  });
});
