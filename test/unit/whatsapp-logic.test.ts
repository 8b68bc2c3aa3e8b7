import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseWhatsAppSettings } from '../../shared/config/whatsapp-settings.js';
import { ServiceError } from '../../shared/errors/service-error.js';
import { acsMessageId } from '../../shared/whatsapp/advanced-message-events.js';
import { putChannelBodySchema } from '../../shared/whatsapp/channel.js';
import { GraphError } from '../../shared/whatsapp/graph-client.js';
import { upstreamFailure } from '../../shared/whatsapp/graph-errors.js';
import { graphMessage } from '../../shared/whatsapp/graph-payload.js';
import { receivedData, statusData } from '../../shared/whatsapp/inbound-mapping.js';
import { maskNumbers } from '../../shared/whatsapp/message-records.js';
import { parseRepeatability } from '../../shared/whatsapp/messages-repeatability.js';
import { notificationContentSchema, whatsAppUserId, type NotificationContent } from '../../shared/whatsapp/notification-content.js';
import { hasValidSignature, webhookSignature } from '../../shared/whatsapp/webhook-signature.js';

const CHANNEL = '0f0eb78e-a576-1dfc-b414-0f0756de3338';

describe('WhatsApp settings', () => {
  it('default to the Graph API, 15 s and 168 hours', () => {
    expect(parseWhatsAppSettings({})).toEqual({ settings: { apiBaseUrl: 'https://graph.facebook.com/v21.0', apiBaseUrls: {}, requestTimeoutMs: 15_000, dedupeHours: 168 }, problems: [] });
  });

  it('take a base URL per WhatsApp geography, trailing slash dropped', () => {
    const { settings, problems } = parseWhatsAppSettings({ WHATSAPP_API_BASE_URL: 'https://proxy.example/v21.0/', WHATSAPP_API_BASE_URL__UK: 'http://127.0.0.1:9999/v21.0' });
    expect(problems).toEqual([]);
    expect(settings.apiBaseUrl).toBe('https://proxy.example/v21.0');
    expect(settings.apiBaseUrls).toEqual({ uk: 'http://127.0.0.1:9999/v21.0' });
  });

  it('name every problem by setting', () => {
    const { problems } = parseWhatsAppSettings({
      WHATSAPP_API_BASE_URL: 'http://graph.example.com',
      WHATSAPP_API_BASE_URL__JAPAN: 'https://x.example',
      WHATSAPP_REQUEST_TIMEOUT_MS: '50',
      WHATSAPP_DEDUPE_HOURS: 'forever',
    });
    expect(problems).toEqual([
      'WHATSAPP_API_BASE_URL__JAPAN: Japan does not offer Advanced Messaging for WhatsApp',
      'WHATSAPP_API_BASE_URL must be an https URL (http only to a loopback address)',
      'WHATSAPP_REQUEST_TIMEOUT_MS must be at least 100',
      'WHATSAPP_DEDUPE_HOURS must be a whole number from 1 to 720',
    ]);
  });
});

describe('channel registrations', () => {
  const valid = { phoneNumberId: '1', businessAccountId: '2', accessTokenSetting: 'WHATSAPP_TOKEN', appSecretSetting: 'WHATSAPP_SECRET', webhookVerifyToken: '12345678' };
  it.each([
    ['WHATSAPP_TOKEN', true],
    ['WHATSAPP_TOKEN__EUROPE', true],
    ['whatsapp_token', false],
    ['MANAGEMENT_KEY', false],
    ['WHATSAPP_', false],
    ['WHATSAPP_API_BASE_URL', false],
    ['WHATSAPP_API_BASE_URL__UK', false],
    ['WHATSAPP_DEDUPE_HOURS', false],
    ['EAAG1234567890', false],
  ])('a secret reference %s is %s', (name, ok) => {
    expect(putChannelBodySchema.safeParse({ ...valid, accessTokenSetting: name }).success).toBe(ok);
  });
});

describe('recipients', () => {
  it.each([
    ['+14255550123', '14255550123'],
    ['14255550123', '14255550123'],
    ['+1 (425) 555-0123', '14255550123'],
    ['+44 7700.900123', '447700900123'],
    ['+0425', undefined],
    ['123456', undefined],
    ['+1234567890123456', undefined],
    ['bob', undefined],
  ])('%s is WhatsApp user %s', (input, expected) => expect(whatsAppUserId(input)).toBe(expected));
});

describe('Graph messages', () => {
  const content = (body: Record<string, unknown>) => notificationContentSchema.parse({ channelRegistrationId: CHANNEL, to: ['1425555012'], ...body }) as NotificationContent;
  const failure = (body: Record<string, unknown>) => {
    try {
      graphMessage(content(body));
    } catch (error) {
      return { message: (error as ServiceError).message, target: (error as ServiceError).target };
    }
    return undefined;
  };

  it('leaves out optional fields that were not given', () => {
    expect(graphMessage(content({ kind: 'image', mediaUri: 'https://e.x/a.png' }))).toEqual({ type: 'image', image: { link: 'https://e.x/a.png' } });
    expect(graphMessage(content({ kind: 'document', mediaUri: 'https://e.x/a.pdf' }))).toEqual({ type: 'document', document: { link: 'https://e.x/a.pdf' } });
  });

  it('checks footer bindings but sends no footer component (WhatsApp footers take no parameters)', () => {
    const message = graphMessage(content({ kind: 'template', template: { name: 't', language: 'en', values: [{ kind: 'text', name: 'f', text: 'x' }], bindings: { kind: 'whatsApp', footer: [{ refValue: 'f' }] } } }));
    expect(message).toEqual({ type: 'template', template: { name: 't', language: { code: 'en' } } });
    expect(failure({ kind: 'template', template: { name: 't', language: 'en', bindings: { kind: 'whatsApp', footer: [{ refValue: 'f' }] } } })).toEqual({
      message: "Invalid request body: The binding refers to 'f', which is not one of the template's values.",
      target: 'template.bindings.footer.0.refValue',
    });
  });

  it.each([
    ['a quick action in the body', { values: [{ kind: 'quickAction', name: 'q', payload: 'p' }], bindings: { kind: 'whatsApp', body: [{ refValue: 'q' }] } }, 'template.bindings.body.0.refValue'],
    ['a text on a button', { values: [{ kind: 'text', name: 't', text: 'x' }], bindings: { kind: 'whatsApp', buttons: [{ subType: 'url', refValue: 't' }] } }, 'template.bindings.buttons.0.refValue'],
    ['a value name twice', { values: [{ kind: 'text', name: 't', text: 'x' }, { kind: 'text', name: 't', text: 'y' }] }, 'template.values.1.name'],
  ])('refuses %s, naming it', (_, template, target) => {
    expect(failure({ kind: 'template', template: { name: 'n', language: 'en', ...template } })?.target).toBe(target);
  });

  it('binds document and video values with their links (and a document its file name)', () => {
    const message = graphMessage(
      content({
        kind: 'template',
        template: {
          name: 'n',
          language: 'en_US',
          values: [
            { kind: 'document', name: 'd', url: 'https://e.x/d.pdf', fileName: 'd.pdf' },
            { kind: 'video', name: 'v', url: 'https://e.x/v.mp4' },
          ],
          bindings: { kind: 'whatsApp', header: [{ refValue: 'd' }], body: [{ refValue: 'v' }] },
        },
      }),
    );
    expect((message.template as { components: unknown }).components).toEqual([
      { type: 'header', parameters: [{ type: 'document', document: { link: 'https://e.x/d.pdf', filename: 'd.pdf' } }] },
      { type: 'body', parameters: [{ type: 'video', video: { link: 'https://e.x/v.mp4' } }] },
    ]);
  });
});

describe("WhatsApp's errors as ACS errors", () => {
  const map = (status: number, code?: number, unavailable = false) => upstreamFailure(new GraphError('(#x) something', status, code, undefined, undefined, unavailable), 'The message to to.0 was not sent');
  it.each([
    [401, 190, 403, 'Forbidden', undefined],
    [400, 10, 403, 'Forbidden', undefined],
    [400, 200, 403, 'Forbidden', undefined],
    [403, undefined, 403, 'Forbidden', undefined],
    [400, 131031, 403, 'Forbidden', undefined],
    [400, 130429, 429, 'TooManyRequests', 60],
    [400, 131056, 429, 'TooManyRequests', 60],
    [429, undefined, 429, 'TooManyRequests', 60],
    [500, 131000, 503, 'ServiceUnavailable', 5],
    [400, 2, 503, 'ServiceUnavailable', 5],
    [502, undefined, 503, 'ServiceUnavailable', 5],
    [400, 131030, 400, 'BadRequest', undefined],
    [400, 131047, 400, 'BadRequest', undefined],
    [404, 132001, 400, 'BadRequest', undefined],
    [400, 100, 400, 'BadRequest', undefined],
  ])('HTTP %s, code %s: %s %s', (status, code, expectedStatus, expectedCode, retryAfter) => {
    const failure = map(status, code);
    expect([failure.status, failure.code, failure.retryAfterSeconds, failure.channelCode]).toEqual([expectedStatus, expectedCode, retryAfter, code === undefined ? undefined : String(code)]);
  });

  it('no answer at all: 503, retry in 5 s; a refused token names what to do', () => {
    expect(map(503, undefined, true)).toEqual({ code: 'ServiceUnavailable', status: 503, message: 'The message to to.0 was not sent: (#x) something.', retryAfterSeconds: 5 });
    expect(map(401, 190).message).toBe('The message to to.0 was not sent: WhatsApp error 190: (#x) something. Renew the access token in the app setting the channel names.');
  });

  it('a stored error names no number', () => {
    expect(maskNumbers('The message to +447700900123 (447700900123) failed with 131030')).toBe('The message to *** (***) failed with 131030');
  });
});

describe('webhook signatures', () => {
  const body = Buffer.from('{"object":"whatsapp_business_account","entry":[]}');
  const hex = createHmac('sha256', 'secret').update(body).digest('hex');
  it.each([
    [`sha256=${hex}`, true],
    [`sha256=${hex.toUpperCase()}`, true],
    [` sha256=${hex} `, true],
    [`sha256=${hex.slice(0, 63)}`, false],
    [`sha256=${'0'.repeat(64)}`, false],
    [`sha1=${hex.slice(0, 40)}`, false],
    [hex, false],
    ['', false],
  ])('%s: %s', (header, ok) => expect(hasValidSignature(body, header, 'secret')).toBe(ok));

  it('is computed over the raw bytes', () => {
    expect(webhookSignature(body, 'secret')).toBe(`sha256=${hex}`);
    expect(hasValidSignature(Buffer.from(body.toString().replace('[]', '[ ]')), `sha256=${hex}`, 'secret')).toBe(false);
    expect(hasValidSignature(body, null, 'secret')).toBe(false);
  });
});

describe('repeatability headers', () => {
  const now = new Date('2026-12-02T10:00:00Z');
  const headers = (values: Record<string, string>) => new Headers(values);
  const rejection = (values: Record<string, string>) => {
    try {
      parseRepeatability(headers(values), now);
    } catch (error) {
      return { status: (error as ServiceError).status, target: (error as ServiceError).target, result: (error as ServiceError).headers?.['repeatability-result'] };
    }
    return undefined;
  };

  it('none: not repeatable; a first-sent alone is ignored', () => {
    expect(parseRepeatability(headers({}), now)).toBeUndefined();
    expect(parseRepeatability(headers({ 'repeatability-first-sent': now.toUTCString() }), now)).toBeUndefined();
  });

  it('both, valid: the id and the time', () => {
    expect(parseRepeatability(headers({ 'repeatability-request-id': 'abc', 'repeatability-first-sent': 'Wed, 02 Dec 2026 09:00:00 GMT' }), now)).toEqual({ requestId: 'abc', firstSent: new Date('2026-12-02T09:00:00Z') });
  });

  it.each([
    [{ 'repeatability-request-id': 'abc' }, 'Repeatability-First-Sent'],
    [{ 'repeatability-request-id': 'abc', 'repeatability-first-sent': '2026-12-02T09:00:00Z' }, 'Repeatability-First-Sent'],
    [{ 'repeatability-request-id': 'abc', 'repeatability-first-sent': 'Wed, 02 Dec 2026 10:06:00 GMT' }, 'Repeatability-First-Sent'],
    [{ 'repeatability-request-id': 'abc', 'repeatability-first-sent': 'Tue, 01 Dec 2026 10:00:00 GMT' }, 'Repeatability-First-Sent'],
    [{ 'repeatability-request-id': 'a b', 'repeatability-first-sent': 'Wed, 02 Dec 2026 09:00:00 GMT' }, 'Repeatability-Request-ID'],
  ])('%o: 400 rejected, naming %s', (values, target) => {
    expect(rejection(values)).toEqual({ status: 400, target, result: 'rejected' });
  });

  it('24 hours less a second ago is accepted; 5 minutes ahead too', () => {
    expect(parseRepeatability(headers({ 'repeatability-request-id': 'a', 'repeatability-first-sent': 'Tue, 01 Dec 2026 10:00:01 GMT' }), now)).toBeDefined();
    expect(parseRepeatability(headers({ 'repeatability-request-id': 'a', 'repeatability-first-sent': 'Wed, 02 Dec 2026 10:05:00 GMT' }), now)).toBeDefined();
  });
});

describe('webhook items as event data', () => {
  const now = new Date('2026-12-02T10:00:00Z');
  it('a status WhatsApp adds later is unknown; its error becomes channelCode and channelMessage', () => {
    expect(statusData(CHANNEL, { id: 'wamid.A', status: 'deleted', recipient_id: '1', timestamp: '1796205600' }, now)).toEqual({
      messageId: acsMessageId(CHANNEL, 'wamid.A'),
      status: 'unknown',
      channelType: 'whatsapp',
      from: CHANNEL,
      to: '1',
      receivedTimestamp: '2026-12-02T10:00:00.000Z',
    });
    expect(statusData(CHANNEL, { id: 'wamid.A', status: 'FAILED', recipient_id: '1', errors: [{ code: 131047, title: 'Re-engagement message' }] }, now)).toMatchObject({ status: 'failed', error: { channelCode: '131047', channelMessage: 'Re-engagement message' }, receivedTimestamp: now.toISOString() });
  });

  it('a message type WhatsApp adds later still becomes an event, with its type and no content', () => {
    expect(receivedData(CHANNEL, { from: '1', id: 'wamid.B', type: 'order', timestamp: 'x' }, now)).toEqual({ from: '1', to: CHANNEL, receivedTimestamp: now.toISOString(), channelType: 'whatsapp', messageId: acsMessageId(CHANNEL, 'wamid.B'), messageType: 'order' });
  });

  it('message ids are the same for the same channel and WhatsApp id, different across channels', () => {
    expect(acsMessageId(CHANNEL, 'wamid.C')).toBe(acsMessageId(CHANNEL, 'wamid.C'));
    expect(acsMessageId(CHANNEL, 'wamid.C')).not.toBe(acsMessageId('11111111-1111-1111-1111-111111111111', 'wamid.C'));
  });
});
