import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GEOGRAPHIES } from '../../shared/geography/geographies.js';
import { itemsOf } from '../support/sms.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { registerChannel } from '../support/whatsapp.js';

/**
 * Advanced Messaging channels through the management API: registration only in the five WhatsApp
 * geographies (refused elsewhere with an error naming them, nothing stored), the channel item in
 * the resource's geography holding setting names and a hash, never a secret, the checks on a
 * registration, replace, list, get, delete, and resource deletion taking the channels along.
 */
let stack: TestStack;
const SECRET_TOKEN = 'EAAsecret-token-value-that-must-not-be-stored';

beforeAll(async () => {
  stack = await startTestStack({ env: { WHATSAPP_CONTOSO_TOKEN: SECRET_TOKEN, WHATSAPP_CONTOSO_SECRET: 'app-secret-value-not-stored' } });
});
afterAll(async () => stack?.stop());

const body = (extra: Record<string, unknown> = {}) => ({
  phoneNumberId: '106540352242922',
  businessAccountId: '102290129340398',
  accessTokenSetting: 'WHATSAPP_CONTOSO_TOKEN',
  appSecretSetting: 'WHATSAPP_CONTOSO_SECRET',
  webhookVerifyToken: 'a-verify-token-of-ours',
  ...extra,
});
const put = (resource: string, channelId: string, payload: unknown) => stack.management('PUT', `/api/management/resources/${resource}/channels/${channelId}`, payload);

const WHATSAPP = ['Asia Pacific', 'Australia', 'Europe', 'United Kingdom', 'United States'];
const ELSEWHERE = GEOGRAPHIES.filter((g) => !WHATSAPP.includes(g.name));

describe('where a channel may be registered', () => {
  it('the geography table offers WhatsApp in exactly five geographies', () => {
    expect(GEOGRAPHIES.filter((g) => g.whatsAppAdvancedMessaging).map((g) => g.name)).toEqual(WHATSAPP);
    expect(ELSEWHERE).toHaveLength(11);
  });

  it.each(ELSEWHERE.map((g) => [g.name, g.key]))('%s: refused with 400 naming the five, and nothing is stored', async (name, key) => {
    const resource = await stack.createResource(`wa-refused-${key}`, name);
    const response = await put(resource.name, randomUUID(), body());
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      error: {
        code: 'BadRequest',
        message: `Advanced Messaging for WhatsApp is not offered in ${name}, the geography of resource '${resource.name}'. It is offered only in Asia Pacific, Australia, Europe, United Kingdom and United States; create the resource in one of them.`,
        target: 'geography',
      },
    });
    expect(await itemsOf(stack, key, 'messageChannels')).toEqual([]);
    expect((await stack.management('GET', `/api/management/resources/${resource.name}/channels`)).body).toEqual({ value: [] });
  });

  it.each(GEOGRAPHIES.filter((g) => g.whatsAppAdvancedMessaging).map((g) => [g.name, g.key]))('%s: registered, and the channel is kept in that geography only', async (name, key) => {
    const resource = await stack.createResource(`wa-ok-${key}`, name);
    const channelId = randomUUID();
    const response = await put(resource.name, channelId, body());
    expect(response.status).toBe(201);
    const items = await itemsOf(stack, key, 'messageChannels');
    expect(items.filter((i) => i.resourceId === resource.id).map((i) => i.id)).toEqual([channelId]);
    for (const other of GEOGRAPHIES.filter((g) => g.key !== key)) {
      expect((await itemsOf(stack, other.key, 'messageChannels')).filter((i) => i.resourceId === resource.id)).toEqual([]);
    }
  });
});

describe('a registered channel', () => {
  let resource: ResourceView;
  const channelId = randomUUID();

  beforeAll(async () => {
    resource = await stack.createResource('wa-channels', 'United Kingdom');
  });

  it('is answered without secrets, with the webhook URL to give WhatsApp', async () => {
    const response = await put(resource.name, channelId.toUpperCase(), body());
    expect(response.status).toBe(201);
    expect(response.body).toEqual({
      id: channelId,
      kind: 'whatsApp',
      phoneNumberId: '106540352242922',
      businessAccountId: '102290129340398',
      accessTokenSetting: 'WHATSAPP_CONTOSO_TOKEN',
      appSecretSetting: 'WHATSAPP_CONTOSO_SECRET',
      webhookUrl: `${stack.httpsUrl}/api/whatsapp/webhooks/wa-channels/${channelId}`,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
  });

  it('is stored as setting names and the verify token\'s SHA-256, never the secrets or the token', async () => {
    const [item, ...others] = (await itemsOf(stack, 'uk', 'messageChannels')).filter((i) => i.resourceId === resource.id);
    expect(others).toEqual([]);
    const { _rid, _self, _etag, _attachments, _ts, ...fields } = item!;
    expect(fields).toEqual({
      id: channelId,
      resourceId: resource.id,
      kind: 'whatsAppChannel',
      phoneNumberId: '106540352242922',
      businessAccountId: '102290129340398',
      accessTokenSetting: 'WHATSAPP_CONTOSO_TOKEN',
      appSecretSetting: 'WHATSAPP_CONTOSO_SECRET',
      webhookVerifyTokenHash: createHash('sha256').update('a-verify-token-of-ours').digest('hex'),
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const text = JSON.stringify(item);
    for (const secret of [SECRET_TOKEN, 'app-secret-value-not-stored', 'a-verify-token-of-ours']) expect(text).not.toContain(secret);
  });

  it('a PUT again replaces it (200) and keeps its creation time; list and get show it', async () => {
    const before = (await stack.management('GET', `/api/management/resources/${resource.name}/channels/${channelId}`)).body;
    const response = await put(resource.name, channelId, body({ businessAccountId: '999' }));
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: channelId, businessAccountId: '999', createdAt: before.createdAt });
    const list = await stack.management('GET', `/api/management/resources/${resource.name}/channels`);
    expect(list.body.value.map((c: { id: string; businessAccountId: string }) => [c.id, c.businessAccountId])).toEqual([[channelId, '999']]);
  });

  it.each([
    ['a channel id that is not a GUID', 'not-a-guid', body(), 'channelId'],
    ['a token given instead of a setting name', randomUUID(), body({ accessTokenSetting: 'EAAGm0PX4ZCps...' }), 'accessTokenSetting'],
    ["one of the app's own settings", randomUUID(), body({ accessTokenSetting: 'WHATSAPP_API_BASE_URL' }), 'accessTokenSetting'],
    ['a setting that is not set', randomUUID(), body({ appSecretSetting: 'WHATSAPP_NOT_SET' }), 'appSecretSetting'],
    ['a short verify token', randomUUID(), body({ webhookVerifyToken: 'short' }), 'webhookVerifyToken'],
    ['a phone number id that is not numeric', randomUUID(), body({ phoneNumberId: '+4477009' }), 'phoneNumberId'],
    ['another kind', randomUUID(), body({ kind: 'telegram' }), 'kind'],
    ['an unknown field', randomUUID(), body({ accessToken: 'EAA...' }), undefined],
  ])('%s: 400 naming the field, nothing stored', async (_, id, payload, target) => {
    const before = await itemsOf(stack, 'uk', 'messageChannels');
    const response = await put(resource.name, id, payload);
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('ValidationError');
    if (target) expect(response.body.error.target).toBe(target);
    expect(await itemsOf(stack, 'uk', 'messageChannels')).toEqual(before);
  });

  it('the same phone number id twice in a resource: 409', async () => {
    const response = await put(resource.name, randomUUID(), body());
    expect(response.status).toBe(409);
    expect(response.body.error).toMatchObject({ code: 'Conflict', target: 'phoneNumberId' });
  });

  it('DELETE removes it (204), then 404', async () => {
    const other = randomUUID();
    expect((await put(resource.name, other, body({ phoneNumberId: '555' }))).status).toBe(201);
    expect((await stack.management('DELETE', `/api/management/resources/${resource.name}/channels/${other}`)).status).toBe(204);
    expect((await stack.management('DELETE', `/api/management/resources/${resource.name}/channels/${other}`)).status).toBe(404);
    expect((await stack.management('GET', `/api/management/resources/${resource.name}/channels/${other}`)).status).toBe(404);
  });

  it('needs the management key', async () => {
    expect((await stack.management('GET', `/api/management/resources/${resource.name}/channels`, undefined, 'wrong')).status).toBe(401);
  });
});

describe('the webhook verification handshake', () => {
  let resource: ResourceView;
  let channel: Awaited<ReturnType<typeof registerChannel>>;
  beforeAll(async () => {
    resource = await stack.createResource('wa-handshake', 'Europe');
    channel = await registerChannel(stack, resource, { subscribe: false });
  });
  const handshake = (query: Record<string, string>, url = channel.webhookUrl) => fetch(`${url.replace(stack.httpsUrl, stack.httpUrl)}?${new URLSearchParams(query).toString()}`);

  it('echoes hub.challenge as text for the channel\'s verify token', async () => {
    const response = await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': channel.verifyToken, 'hub.challenge': '1158201444' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await response.text()).toBe('1158201444');
  });

  it.each([
    ['another verify token', { 'hub.mode': 'subscribe', 'hub.verify_token': 'not-the-token', 'hub.challenge': '1' }],
    ['another mode', { 'hub.mode': 'unsubscribe', 'hub.verify_token': '{token}', 'hub.challenge': '1' }],
    ['no verify token', { 'hub.mode': 'subscribe', 'hub.challenge': '1' }],
  ])('%s: 403, the challenge not echoed', async (_, query) => {
    const response = await handshake(Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.replace('{token}', channel.verifyToken)])));
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('"1"');
  });

  it('an unknown channel or resource: 403 alike', async () => {
    const query = { 'hub.mode': 'subscribe', 'hub.verify_token': channel.verifyToken, 'hub.challenge': '7' };
    expect((await handshake(query, channel.webhookUrl.replace(channel.id, randomUUID()))).status).toBe(403);
    expect((await handshake(query, channel.webhookUrl.replace('/wa-handshake/', '/no-such-resource/'))).status).toBe(403);
  });

  it('the simulator subscribes through it, as WhatsApp does when the callback URL is saved', async () => {
    const response = await fetch(`${stack.whatsApp!.url}/api/webhooks/${channel.phoneNumberId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: channel.webhookUrl, verifyToken: channel.verifyToken, businessAccountId: channel.businessAccountId }),
    });
    expect(response.status).toBe(200);
    const refused = await fetch(`${stack.whatsApp!.url}/api/webhooks/${channel.phoneNumberId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: channel.webhookUrl, verifyToken: 'wrong-token', businessAccountId: channel.businessAccountId }),
    });
    expect(refused.status).toBe(502);
  });
});

describe('deleting a resource', () => {
  it('removes its channels with the rest of its data', async () => {
    const resource = await stack.createResource('wa-doomed', 'Australia');
    await registerChannel(stack, resource, { subscribe: false });
    await registerChannel(stack, resource, { subscribe: false });
    const deleted = await stack.management('DELETE', `/api/management/resources/${resource.name}`);
    expect(deleted.status).toBe(200);
    expect(deleted.body.removed.cosmos.messageChannels).toBe(2);
    expect((await itemsOf(stack, 'australia', 'messageChannels')).filter((i) => i.resourceId === resource.id)).toEqual([]);
  });
});
