import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, expect, afterEach } from 'vitest';
import { AzureKeyCredential, EventGridPublisherClient, type SendCloudEventInput, type SendEventGridEventInput } from '@azure/eventgrid';
import { LOCAL_TOPIC, LocalEventGridTopic, type LocalTopicOptions } from '../../local/eventgrid-topic/topic-server.js';

const KEY = 'local-test-key';

interface Hit {
  method: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Responder = (hit: Hit, res: ServerResponse) => void;

/** Answers both handshakes like a well-behaved Event Grid webhook. */
function handshake(hit: Hit, res: ServerResponse): boolean {
  if (hit.method === 'OPTIONS') {
    res.writeHead(200, { 'WebHook-Allowed-Origin': String(hit.headers['webhook-request-origin']) }).end();
    return true;
  }
  if (hit.headers['aeg-event-type'] === 'SubscriptionValidation') {
    const [event] = JSON.parse(hit.body) as { data: { validationCode: string } }[];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ validationResponse: event!.data.validationCode }));
    return true;
  }
  return false;
}

const ok: Responder = (hit, res) => {
  if (!handshake(hit, res)) res.writeHead(200).end();
};

/** Fails the first `failures` notifications with 500, then accepts. */
function failingTimes(failures: number): Responder {
  let left = failures;
  return (hit, res) => {
    if (handshake(hit, res)) return;
    if (left > 0) {
      left--;
      res.writeHead(500).end('boom');
      return;
    }
    res.writeHead(200).end();
  };
}

interface Webhook {
  url: string;
  hits: Hit[];
  notifications(): Hit[];
  close(): Promise<void>;
}

async function startWebhook(respond: Responder): Promise<Webhook> {
  const hits: Hit[] = [];
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const hit = { method: req.method ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      hits.push(hit);
      respond(hit, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/webhook`,
    hits,
    notifications: () => hits.filter((h) => h.method === 'POST' && h.headers['aeg-event-type'] === 'Notification'),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startTopic(options: Partial<LocalTopicOptions> = {}): Promise<LocalEventGridTopic> {
  const topic = new LocalEventGridTopic({ key: KEY, ...options });
  await topic.start();
  cleanups.push(async () => {
    topic.dispose();
    await topic.stop();
  });
  return topic;
}

async function webhook(respond: Responder): Promise<Webhook> {
  const hook = await startWebhook(respond);
  cleanups.push(() => hook.close());
  return hook;
}

// The real client refuses http:// endpoints unless allowInsecureConnection is set.
function cloudClient(topic: LocalEventGridTopic, key = KEY) {
  return new EventGridPublisherClient(topic.endpoint, 'CloudEvent', new AzureKeyCredential(key), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

function eventGridClient(topic: LocalEventGridTopic, key = KEY) {
  return new EventGridPublisherClient(topic.endpoint, 'EventGrid', new AzureKeyCredential(key), {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

const cloudEvent = (id: string, type = 'Acs.Residency.Booked'): SendCloudEventInput<unknown> => ({
  id,
  type,
  source: '/acs/residency',
  subject: `bookings/${id}`,
  data: { bookingId: id, nights: 3 },
});

const gridEvent = (id: string, eventType = 'Acs.Residency.Booked'): SendEventGridEventInput<unknown> => ({
  id,
  eventType,
  subject: `bookings/${id}`,
  dataVersion: '1.0',
  data: { bookingId: id },
});

describe('LocalEventGridTopic with the real EventGridPublisherClient', () => {
  it('refuses the http endpoint without allowInsecureConnection', async () => {
    const topic = await startTopic();
    const client = new EventGridPublisherClient(topic.endpoint, 'CloudEvent', new AzureKeyCredential(KEY));
    await expect(client.send([cloudEvent('ce-0')])).rejects.toThrow(/allowInsecureConnection/);
    expect(topic.received()).toEqual([]);
  });

  it('accepts CloudEvents and makes them inspectable', async () => {
    const topic = await startTopic();
    expect(topic.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/events$/);
    await cloudClient(topic).send([cloudEvent('ce-1'), cloudEvent('ce-2', 'Acs.Residency.Cancelled')]);

    const received = topic.received();
    expect(received.map((r) => r.schema)).toEqual(['CloudEvents', 'CloudEvents']);
    expect(received[0]!.event).toMatchObject({
      id: 'ce-1',
      type: 'Acs.Residency.Booked',
      source: '/acs/residency',
      subject: 'bookings/ce-1',
      specversion: '1.0',
      datacontenttype: 'application/json',
      data: { bookingId: 'ce-1', nights: 3 },
    });
    expect(Number.isNaN(Date.parse(received[0]!.receivedAt))).toBe(false);

    const all = (await (await fetch(topic.endpoint)).json()) as { value: { event: { id: string } }[] };
    expect(all.value.map((r) => r.event.id)).toEqual(['ce-1', 'ce-2']);
    const filtered = (await (await fetch(`${topic.endpoint}?type=Acs.Residency.Cancelled`)).json()) as {
      value: { event: { id: string } }[];
    };
    expect(filtered.value.map((r) => r.event.id)).toEqual(['ce-2']);

    const cleared = await fetch(topic.endpoint, { method: 'DELETE' });
    expect(cleared.status).toBe(204);
    expect(topic.received()).toEqual([]);
  });

  it('accepts Event Grid schema events and stamps topic and metadataVersion', async () => {
    const topic = await startTopic();
    await eventGridClient(topic).send([gridEvent('eg-1')]);
    expect(topic.received()).toHaveLength(1);
    const [received] = topic.received();
    expect(received?.schema).toBe('EventGrid');
    expect(received?.event).toMatchObject({
      id: 'eg-1',
      eventType: 'Acs.Residency.Booked',
      subject: 'bookings/eg-1',
      dataVersion: '1.0',
      data: { bookingId: 'eg-1' },
      topic: LOCAL_TOPIC,
      metadataVersion: '1',
    });
    expect(typeof received?.event['eventTime']).toBe('string');
    expect(Number.isNaN(Date.parse(received!.event['eventTime'] as string))).toBe(false);
  });

  it('rejects a wrong key with 401 (client throws) and stores nothing', async () => {
    const topic = await startTopic();
    await expect(cloudClient(topic, 'wrong-key').send([cloudEvent('ce-x')])).rejects.toMatchObject({ statusCode: 401 });
    await expect(eventGridClient(topic, 'wrong-key').send([gridEvent('eg-x')])).rejects.toMatchObject({ statusCode: 401 });
    expect(topic.received()).toEqual([]);

    const raw = await fetch(topic.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual({ error: { code: 'Unauthorized', message: "Missing or invalid 'aeg-sas-key' header or bearer token." } });
  });

  it('rejects invalid bodies with 400 naming the problem, and unknown routes with 404', async () => {
    const topic = await startTopic();
    const post = (contentType: string, body: unknown) =>
      fetch(topic.endpoint, { method: 'POST', headers: { 'content-type': contentType, 'aeg-sas-key': KEY }, body: JSON.stringify(body) });

    const noSpec = await post('application/cloudevents-batch+json; charset=utf-8', [{ id: '1', source: '/s', type: 't' }]);
    expect(noSpec.status).toBe(400);
    const noSpecBody = (await noSpec.json()) as { error: { code: string; message: string } };
    expect(noSpecBody.error.code).toBe('BadRequest');
    expect(noSpecBody.error.message).toContain('events[0].specversion');

    const noData = await post('application/json', [
      { id: '1', subject: 's', eventType: 't', eventTime: new Date().toISOString(), dataVersion: '1' },
    ]);
    expect(noData.status).toBe(400);
    expect(((await noData.json()) as { error: { message: string } }).error.message).toContain('events[0].data');

    const notArray = await post('application/json', { id: '1' });
    expect(notArray.status).toBe(400);
    expect(((await notArray.json()) as { error: { message: string } }).error.message).toBe('Request body must be a JSON array of events.');

    const notFound = await fetch(topic.endpoint.replace('/api/events', '/api/nope'));
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { code: string } }).error.code).toBe('NotFound');
    expect(topic.received()).toEqual([]);
  });

  it('delivers CloudEvents to a webhook after the OPTIONS handshake, once', async () => {
    const hook = await webhook(ok);
    const topic = await startTopic({ subscriptions: [{ name: 'residency-sub', endpoint: hook.url }] });
    await cloudClient(topic).send([cloudEvent('ce-10')]);
    await topic.idle();
    await cloudClient(topic).send([cloudEvent('ce-11')]);
    await topic.idle();

    expect(hook.hits.map((h) => h.method)).toEqual(['OPTIONS', 'POST', 'POST']);
    expect(hook.hits[0]!.headers['webhook-request-origin']).toBe('eventgrid.azure.net');
    const [first, second] = hook.notifications();
    expect(first!.headers['content-type']).toBe('application/cloudevents+json; charset=utf-8');
    expect(first!.headers['aeg-event-type']).toBe('Notification');
    expect(first!.headers['aeg-delivery-count']).toBe('0');
    expect(first!.headers['aeg-subscription-name']).toBe('residency-sub');
    const body = JSON.parse(first!.body) as Record<string, unknown>;
    expect(Array.isArray(body)).toBe(false);
    expect(body).toMatchObject({ id: 'ce-10', type: 'Acs.Residency.Booked', specversion: '1.0', data: { bookingId: 'ce-10', nights: 3 } });
    expect((JSON.parse(second!.body) as { id: string }).id).toBe('ce-11');
    expect(topic.deadLettered()).toEqual([]);
  });

  it('delivers Event Grid events as a one-element array after the validation handshake', async () => {
    const hook = await webhook(ok);
    const topic = await startTopic({ subscriptions: [{ name: 'grid-sub', endpoint: hook.url }] });
    await eventGridClient(topic).send([gridEvent('eg-10'), gridEvent('eg-11')]);
    await topic.idle();

    const validations = hook.hits.filter((h) => h.headers['aeg-event-type'] === 'SubscriptionValidation');
    expect(validations).toHaveLength(1);
    const [validation] = JSON.parse(validations[0]!.body) as Record<string, unknown>[];
    expect(validation).toMatchObject({
      topic: LOCAL_TOPIC,
      subject: '',
      eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent',
      metadataVersion: '1',
      dataVersion: '2',
    });
    expect(typeof (validation!['data'] as { validationCode: unknown }).validationCode).toBe('string');
    expect(hook.hits.indexOf(validations[0]!)).toBe(0);

    const notifications = hook.notifications();
    expect(notifications).toHaveLength(2);
    for (const n of notifications) {
      expect(n.headers['content-type']).toBe('application/json');
      expect(n.headers['aeg-delivery-count']).toBe('0');
      expect(n.headers['aeg-subscription-name']).toBe('grid-sub');
    }
    const delivered = notifications.map((n) => JSON.parse(n.body) as Record<string, unknown>[]);
    expect(delivered.map((arr) => arr.length)).toEqual([1, 1]);
    expect(delivered.map((arr) => arr[0]!['id']).sort()).toEqual(['eg-10', 'eg-11']);
    expect(delivered[0]![0]).toMatchObject({ topic: LOCAL_TOPIC, metadataVersion: '1', eventType: 'Acs.Residency.Booked' });
  });

  it('only delivers event types a subscription includes', async () => {
    const hook = await webhook(ok);
    const topic = await startTopic({
      subscriptions: [{ name: 'cancellations', endpoint: hook.url, includedEventTypes: ['Acs.Residency.Cancelled'] }],
    });
    await cloudClient(topic).send([cloudEvent('ce-20'), cloudEvent('ce-21', 'Acs.Residency.Cancelled')]);
    await topic.idle();
    expect(hook.notifications().map((n) => (JSON.parse(n.body) as { id: string }).id)).toEqual(['ce-21']);
  });

  it('retries a webhook that fails twice and delivers on the 3rd attempt', async () => {
    const hook = await webhook(failingTimes(2));
    const topic = await startTopic({ retryDelaysMs: [50, 50, 50], subscriptions: [{ name: 'flaky', endpoint: hook.url }] });
    await cloudClient(topic).send([cloudEvent('ce-30')]);
    await topic.idle();

    const notifications = hook.notifications();
    expect(notifications.map((n) => n.headers['aeg-delivery-count'])).toEqual(['0', '1', '2']);
    expect(notifications.map((n) => (JSON.parse(n.body) as { id: string }).id)).toEqual(['ce-30', 'ce-30', 'ce-30']);
    expect(hook.hits.filter((h) => h.method === 'OPTIONS')).toHaveLength(1);
    expect(topic.deadLettered()).toEqual([]);
  });

  it('dead-letters an event when the webhook always fails', async () => {
    const hook = await webhook(failingTimes(Number.POSITIVE_INFINITY));
    const topic = await startTopic({ retryDelaysMs: [20, 20, 20], subscriptions: [{ name: 'broken', endpoint: hook.url }] });
    await eventGridClient(topic).send([gridEvent('eg-40')]);
    await topic.idle();

    expect(hook.notifications()).toHaveLength(4);
    const dead = topic.deadLettered();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ subscription: 'broken', attempts: 4, lastError: 'HTTP 500 boom' });
    expect(dead[0]!.event).toMatchObject({ id: 'eg-40', topic: LOCAL_TOPIC });

    const listed = (await (await fetch(topic.endpoint.replace('/api/events', '/api/deadletters'))).json()) as { event: { id: string } }[];
    expect(listed.map((d) => d.event.id)).toEqual(['eg-40']);
  });

  it('counts a failed handshake as a failed attempt', async () => {
    const hook = await webhook((hit, res) => res.writeHead(hit.method === 'OPTIONS' ? 403 : 200).end());
    const topic = await startTopic({ retryDelaysMs: [20], subscriptions: [{ name: 'no-handshake', endpoint: hook.url }] });
    await cloudClient(topic).send([cloudEvent('ce-50')]);
    await topic.idle();

    expect(hook.hits.map((h) => h.method)).toEqual(['OPTIONS', 'OPTIONS']);
    expect(topic.deadLettered()).toMatchObject([
      { subscription: 'no-handshake', attempts: 2, lastError: 'validation handshake (OPTIONS) failed: HTTP 403' },
    ]);
  });

  it('keeps the endpoint, events and pending deliveries across stop() and start()', async () => {
    const hook = await webhook(failingTimes(1));
    const topic = await startTopic({ retryDelaysMs: [100], subscriptions: [{ name: 'restart', endpoint: hook.url }] });
    const endpoint = topic.endpoint;
    await cloudClient(topic).send([cloudEvent('ce-60')]);
    await topic.stop();

    // Stopped: the endpoint refuses connections, the retry still reaches the webhook.
    await expect(cloudClient(topic).send([cloudEvent('ce-61')])).rejects.toThrow();
    await topic.idle();
    expect(hook.notifications().map((n) => n.headers['aeg-delivery-count'])).toEqual(['0', '1']);

    await topic.start();
    expect(topic.endpoint).toBe(endpoint);
    await cloudClient(topic).send([cloudEvent('ce-62')]);
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-60', 'ce-62']);
  });

  it('keeps the newest maxReceived events, oldest dropped first, and lists how many were dropped', async () => {
    const topic = await startTopic({ maxReceived: 5 });
    await cloudClient(topic).send([1, 2, 3].map((n) => cloudEvent(`ce-b${n}`)));
    await cloudClient(topic).send([4, 5, 6, 7, 8].map((n) => cloudEvent(`ce-b${n}`, n % 2 ? 'Acs.Residency.Booked' : 'Acs.Residency.Cancelled')));

    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-b4', 'ce-b5', 'ce-b6', 'ce-b7', 'ce-b8']);
    expect(topic.dropped).toBe(3);
    const listed = (await (await fetch(topic.endpoint)).json()) as { value: { event: { id: string } }[]; dropped: number };
    expect(listed.value.map((r) => r.event.id)).toEqual(['ce-b4', 'ce-b5', 'ce-b6', 'ce-b7', 'ce-b8']);
    expect(listed.dropped).toBe(3);
    const filtered = (await (await fetch(`${topic.endpoint}?type=Acs.Residency.Cancelled`)).json()) as { value: { event: { id: string } }[]; dropped: number };
    expect(filtered).toMatchObject({ dropped: 3 });
    expect(filtered.value.map((r) => r.event.id)).toEqual(['ce-b4', 'ce-b6', 'ce-b8']);

    // One request larger than the bound keeps its own last events.
    await cloudClient(topic).send([9, 10, 11, 12, 13, 14].map((n) => cloudEvent(`ce-b${n}`)));
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-b10', 'ce-b11', 'ce-b12', 'ce-b13', 'ce-b14']);
    expect(topic.dropped).toBe(9);

    expect((await fetch(topic.endpoint, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(topic.endpoint)).json()).toEqual({ value: [], dropped: 0 });
  });

  it('keeps 10 000 events by default and refuses a bound that is not a non-negative integer', async () => {
    const topic = await startTopic();
    const ids = Array.from({ length: 10_003 }, (_, n) => `ce-d${n}`);
    for (let i = 0; i < ids.length; i += 1_000) await cloudClient(topic).send(ids.slice(i, i + 1_000).map((id) => cloudEvent(id)));
    const kept = topic.received();
    expect(kept).toHaveLength(10_000);
    expect(kept[0]!.event['id']).toBe('ce-d3');
    expect(kept.at(-1)!.event['id']).toBe('ce-d10002');
    expect(topic.dropped).toBe(3);
    expect(() => new LocalEventGridTopic({ key: KEY, maxReceived: -1 })).toThrow(/maxReceived/);
    expect(() => new LocalEventGridTopic({ key: KEY, maxReceived: 1.5 })).toThrow(/maxReceived/);
  });

  it('delivers every event to subscriptions whatever the bound', async () => {
    const hook = await webhook(ok);
    const topic = await startTopic({ maxReceived: 2, subscriptions: [{ name: 'bounded', endpoint: hook.url }] });
    await cloudClient(topic).send([1, 2, 3, 4, 5].map((n) => cloudEvent(`ce-w${n}`)));
    await topic.idle();
    expect(hook.notifications().map((n) => (JSON.parse(n.body) as { id: string }).id).sort()).toEqual(['ce-w1', 'ce-w2', 'ce-w3', 'ce-w4', 'ce-w5']);
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-w4', 'ce-w5']);
    expect(topic.dropped).toBe(3);
  });

  it('when slowed down (a test hook), holds requests and does not accept one its client cancelled', async () => {
    // Real time is what is tested: the hook holds a request for real milliseconds.
    const lines: string[] = [];
    const topic = await startTopic({ log: (line) => lines.push(line) });
    topic.slowDown({ afterRequests: 1, delayMs: 400 });
    await cloudClient(topic).send([cloudEvent('ce-s1')]);
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-s1']);

    const cancelled = cloudClient(topic).send([cloudEvent('ce-s2')], { abortSignal: AbortSignal.timeout(100) });
    await expect(cancelled).rejects.toThrow();
    const started = Date.now();
    await cloudClient(topic).send([cloudEvent('ce-s3')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    // Until the topic has let go of the cancelled request (it says so), polled at most 40 times 25 ms apart.
    const refusedCancelled = () => lines.filter((line) => line.includes('of a request its client cancelled'));
    for (let polls = 0; polls < 40 && refusedCancelled().length === 0; polls += 1) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(refusedCancelled()).toEqual(['[eventgrid] not accepted: 1 event(s) of a request its client cancelled']);
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-s1', 'ce-s3']);

    topic.slowDown();
    await cloudClient(topic).send([cloudEvent('ce-s4')]);
    expect(topic.received().map((r) => r.event['id'])).toEqual(['ce-s1', 'ce-s3', 'ce-s4']);
  });
});
