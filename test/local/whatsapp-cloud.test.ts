import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppCloudSimulator } from '../../local/whatsapp-cloud/simulator.js';
import { eventually } from '../support/sms.js';

/**
 * The embedded WhatsApp Cloud API simulator on its own, against a small webhook receiver: the Graph
 * API's answers and errors, cursor paging, media, the handshake, signed webhooks with their
 * retries, statuses, and its developer API's errors.
 */
const TOKEN = 'EAAsimulator-token';
const SECRET = 'simulator-app-secret';
let simulator: WhatsAppCloudSimulator;
let receiver: http.Server;
let receiverUrl: string;
const posts: { body: string; signature: string | undefined }[] = [];
/** Answers to give the next webhook posts (200 when empty). */
const answers: number[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET') {
      const ok = url.searchParams.get('hub.verify_token') === 'the-token' && url.searchParams.get('hub.mode') === 'subscribe';
      res.writeHead(ok ? 200 : 403).end(ok ? url.searchParams.get('hub.challenge') : '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ body: Buffer.concat(chunks).toString('utf8'), signature: req.headers['x-hub-signature-256'] as string | undefined });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  simulator = new WhatsAppCloudSimulator({ accessToken: TOKEN, appSecret: SECRET, statusDelayMs: 20, failingNumbers: ['+447700900999'] });
  await simulator.start();
});
afterAll(async () => {
  await simulator?.stop();
  await new Promise((resolve) => receiver?.close(resolve));
});

const graph = (method: string, path: string, body?: unknown, token = TOKEN) =>
  fetch(`${simulator.graphUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const dev = (method: string, path: string, body?: unknown) => fetch(`${simulator.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

describe('the Graph API', () => {
  it('refuses a request without the token: 401, OAuthException 190', async () => {
    const response = await graph('POST', '/1/messages', { messaging_product: 'whatsapp', to: '14255550123', type: 'text', text: { body: 'x' } }, 'wrong');
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { message: 'Invalid OAuth access token - Cannot parse access token', type: 'OAuthException', code: 190, fbtrace_id: expect.any(String) } });
  });

  it('accepts a message: its wamid, the contact, and keeps what it received', async () => {
    const response = await graph('POST', '/100/messages', { messaging_product: 'whatsapp', recipient_type: 'individual', to: '+14255550123', type: 'text', text: { body: 'hi' } });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { messages: { id: string }[] };
    expect(body).toEqual({ messaging_product: 'whatsapp', contacts: [{ input: '+14255550123', wa_id: '14255550123' }], messages: [{ id: expect.stringMatching(/^wamid\./) }] });
    expect(simulator.state.sent.at(-1)).toMatchObject({ id: body.messages[0]!.id, phoneNumberId: '100', to: '14255550123', type: 'text' });
  });

  it.each([
    [{ to: '14255550123', type: 'text', text: { body: 'x' } }, '(#100) The parameter messaging_product is required.'],
    [{ messaging_product: 'whatsapp', to: 'bob', type: 'text', text: { body: 'x' } }, '(#100) Invalid parameter: to'],
    [{ messaging_product: 'whatsapp', to: '14255550123', type: 'image' }, '(#100) Param image is required for type image.'],
  ])('refuses an invalid message: 400, code 100', async (body, message) => {
    const response = await graph('POST', '/100/messages', body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { message, code: 100 } });
  });

  it('refuses the refused numbers with their code', async () => {
    expect((await dev('PUT', '/api/refused-numbers', { numbers: ['+14255550777'], code: 131030 })).status).toBe(204);
    const response = await graph('POST', '/100/messages', { messaging_product: 'whatsapp', to: '14255550777', type: 'text', text: { body: 'x' } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 131030, message: '(#131030) Recipient phone number not in allowed list' } });
    await dev('PUT', '/api/refused-numbers', { numbers: [] });
  });

  it('pages templates with cursors: limit, after, and next only while more remain', async () => {
    const names: string[] = [];
    let path: string | undefined = '/202/message_templates?limit=4&fields=name,language,status';
    let pages = 0;
    while (path) {
      const page = (await (await graph('GET', path)).json()) as { data: { name: string; id: string; components?: unknown }[]; paging: { cursors: { after: string }; next?: string } };
      pages += 1;
      names.push(...page.data.map((t) => t.name));
      expect(page.data.every((t) => t.components === undefined && typeof t.id === 'string')).toBe(true);
      path = page.paging.next ? page.paging.next.slice(simulator.graphUrl.length) : undefined;
    }
    expect(pages).toBe(3);
    expect(names).toEqual(simulator.state.templatesOf('202').map((t) => t.name));
  });

  it('serves media to the token, for its phone number only', async () => {
    const media = Buffer.from('media bytes');
    simulator.state.media.set('303', { id: '303', phoneNumberId: '100', mimeType: 'image/png', size: media.length, sha256: createHash('sha256').update(media).digest('hex'), content: media });
    expect((await graph('GET', '/303?phone_number_id=999')).status).toBe(400);
    const info = (await (await graph('GET', '/303?phone_number_id=100')).json()) as { url: string; mime_type: string; file_size: number };
    expect(info).toMatchObject({ mime_type: 'image/png', file_size: media.length, id: '303' });
    expect((await fetch(info.url)).status).toBe(401);
    const download = await fetch(info.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).equals(media)).toBe(true);
  });
});

describe('webhooks', () => {
  it('a subscription needs the handshake to pass', async () => {
    const refused = await dev('PUT', '/api/webhooks/101', { url: receiverUrl, verifyToken: 'wrong', businessAccountId: '202' });
    expect(refused.status).toBe(502);
    const accepted = await dev('PUT', '/api/webhooks/101', { url: receiverUrl, verifyToken: 'the-token', businessAccountId: '202' });
    expect(accepted.status).toBe(200);
  });

  it('posts a user message signed with the app secret, again after a failure', async () => {
    posts.length = 0;
    answers.push(500);
    const injected = (await (await dev('POST', '/api/inbound', { phoneNumberId: '101', from: '+447700900001', text: 'Hello' })).json()) as { messageId: string; deliveries: string[] };
    await eventually(() => (posts.length === 2 ? true : undefined), 5_000);
    expect(posts[0]!.body).toBe(posts[1]!.body);
    for (const post of posts) expect(post.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(post.body).digest('hex')}`);
    const payload = JSON.parse(posts[0]!.body) as { object: string; entry: { id: string; changes: { field: string; value: Record<string, any> }[] }[] };
    expect(payload).toEqual({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '202',
          changes: [
            {
              field: 'messages',
              value: {
                messaging_product: 'whatsapp',
                metadata: { display_phone_number: '15550000000', phone_number_id: '101' },
                contacts: [{ profile: { name: 'Simulated User' }, wa_id: '447700900001' }],
                messages: [{ from: '447700900001', id: injected.messageId, timestamp: expect.any(String), type: 'text', text: { body: 'Hello' } }],
              },
            },
          ],
        },
      ],
    });
    // The receiver records a post before it answers: the simulator reads the 200 a moment later.
    const delivery = () => simulator.state.deliveries.find((d) => d.id === injected.deliveries[0]);
    await eventually(() => (delivery()?.lastStatus === 200 ? true : undefined), 5_000);
    expect(delivery()).toMatchObject({ attempts: 2, lastStatus: 200, state: 'delivered' });
  });

  it('reports sent, delivered and read for a message, failed for a failing number', async () => {
    posts.length = 0;
    await graph('POST', '/101/messages', { messaging_product: 'whatsapp', to: '447700900002', type: 'text', text: { body: 'x' } });
    await graph('POST', '/101/messages', { messaging_product: 'whatsapp', to: '447700900999', type: 'text', text: { body: 'x' } });
    type Status = { status: string; recipient_id: string; errors?: { code: number }[] };
    const statusesOf = () => posts.flatMap((p) => (JSON.parse(p.body) as { entry: { changes: { value: { statuses?: Status[] } }[] }[] }).entry[0]!.changes[0]!.value.statuses ?? []);
    await eventually(() => (statusesOf().length === 4 ? true : undefined), 10_000);
    const statuses = statusesOf();
    expect(statuses.filter((s) => s.recipient_id === '447700900002').map((s) => s.status)).toEqual(['sent', 'delivered', 'read']);
    expect(statuses.filter((s) => s.recipient_id === '447700900999').map((s) => [s.status, s.errors?.[0]?.code])).toEqual([['failed', 131026]]);
  });

  it("the developer API's errors", async () => {
    expect((await dev('POST', '/api/inbound', { phoneNumberId: '999', from: '447700900001', text: 'x' })).status).toBe(409);
    expect((await dev('POST', '/api/inbound', { phoneNumberId: '101', from: 'nobody' })).status).toBe(400);
    expect((await dev('GET', '/api/nothing')).status).toBe(404);
  });
});
