import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installFunctionsCore } from '../../local/functions-core-shim.js';
import { functionsLibraryOf } from '../fixtures/functions-library.js';
import { calls } from '../fixtures/recorder.js';
import { rawRequest, type RawTarget } from '../support/raw-http.js';
import { repoRoot, startTestStack, type TestStack } from '../support/test-stack.js';

let stack: TestStack;

beforeAll(async () => {
  // The recorder is module state of the worker process, which the test files share: each starts it empty.
  calls.length = 0;
  stack = await startTestStack({
    functionsDir: join(repoRoot, 'test', 'fixtures', 'functions'),
    env: { FIXTURE_SCHEDULE: '0 0 0 1 1 *' },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const webhook = (functionName: string, init: RequestInit) =>
  fetch(`${stack.httpUrl}/runtime/webhooks/eventgrid?functionName=${functionName}`, init);
const eventGridEvent = (id: string, data: unknown) => ({
  id,
  topic: '/local',
  subject: 'test',
  eventType: 'Test.Event',
  eventTime: new Date().toISOString(),
  data,
  dataVersion: '1.0',
  metadataVersion: '1',
});

describe('development host: HTTP routes', () => {
  it('matches route templates: constraints, catch-all, literals before parameters, optional parameters', async () => {
    const echo = await (await fetch(`${stack.httpUrl}/items/42/a/b%20c?x=1`)).json();
    expect(echo).toMatchObject({ fn: 'echo', params: { id: '42', rest: 'a/b c' }, query: { x: '1' } });
    expect((await fetch(`${stack.httpUrl}/items/notanint/a`)).status).toBe(404);
    expect(await (await fetch(`${stack.httpUrl}/items/special`)).json()).toEqual({ fn: 'special' });
    expect(await (await fetch(`${stack.httpUrl}/opt`)).json()).toEqual({ name: null });
    expect(await (await fetch(`${stack.httpUrl}/opt/ann`)).json()).toEqual({ name: 'ann' });
  });

  it('serves over HTTPS too, passes the body and the dialled host, and answers 500 when a function throws', async () => {
    const posted = (await (await fetch(`${stack.httpUrl}/items/7/x`, { method: 'POST', body: 'payload' })).json()) as { body: string; host: string };
    expect(posted.body).toBe('payload');
    expect(posted.host).toBe(`localhost:${new URL(stack.httpUrl).port}`);
    expect((await fetch(`${stack.httpUrl}/boom`)).status).toBe(500);
    const { request } = await import('node:https');
    const status = await new Promise<number>((resolve, reject) => {
      request(`${stack.httpsUrl}/items/1/z`, { ca: stack.tls.cert }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(status).toBe(200);
  });
});

describe('development host: requests it cannot read (buffered trigger mode)', () => {
  const targets = (): RawTarget[] => [{ url: stack.httpUrl }, { url: stack.httpsUrl, ca: stack.tls.cert }];
  const hostOf = (target: RawTarget) => new URL(target.url).host;
  const special = async (target: RawTarget) => {
    const response = await rawRequest(target, `GET /items/special HTTP/1.1\r\nHost: ${hostOf(target)}\r\nConnection: close\r\n\r\n`);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ fn: 'special' });
  };

  it('answers 400 in the ACS shape for a Host URL parsing refuses, and keeps serving', async () => {
    for (const target of targets()) {
      for (const host of ['[', 'a b', '']) {
        const response = await rawRequest(target, `GET /items/special HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        expect(response.status).toBe(400);
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'BadRequest' } });
        await special(target);
      }
    }
  });

  it('refuses dot segments and encoded separators before routing, so no function runs', async () => {
    for (const target of targets()) {
      for (const path of ['/items/1/a/..', '/items/1/a/%2e%2E', '/items/1/.%2e/special', '/items/1/a%2fb', '/items/1/a%5Cb']) {
        const response = await rawRequest(target, `GET ${path} HTTP/1.1\r\nHost: ${hostOf(target)}\r\nConnection: close\r\n\r\n`);
        expect(response.status).toBe(400);
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'BadRequest', message: expect.stringContaining(path) } });
      }
      await special(target);
    }
  });

  it('answers 413 for a body over the Functions host limit (100 MB) before reading it', async () => {
    for (const target of targets()) {
      for (const path of ['/admin/functions/fromSetting', '/items/7/x']) {
        const response = await rawRequest(target, `POST ${path} HTTP/1.1\r\nHost: ${hostOf(target)}\r\nContent-Length: 104857601\r\n\r\n{}`);
        expect(response.status).toBe(413);
        expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'PayloadTooLarge' } });
      }
      await special(target);
    }
  });

  it('survives a buffered trigger whose client goes away before the body is complete', async () => {
    for (const target of targets()) {
      await rawRequest(target, `POST /items/7/x HTTP/1.1\r\nHost: ${hostOf(target)}\r\nContent-Length: 100\r\n\r\npartial`, { abortAfterWrite: true });
      await special(target);
    }
  });
});

describe('development host: timers', () => {
  it('runs a six-field NCRONTAB timer on its schedule', async () => {
    // Real time is what is tested: the host arms real timers from the schedule (every second here).
    // Polled at most 50 times, 100 ms apart.
    const start = Date.now();
    for (let polls = 0; polls < 50 && !calls.some((c) => c.fn === 'everySecond' && c.at >= start); polls += 1) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const call = calls.find((c) => c.fn === 'everySecond' && c.at >= start);
    expect(call).toBeDefined();
    expect(call!.input).toMatchObject({ schedule: { adjustForDST: true }, isPastDue: false });
  });

  it('runs a timer now through POST /admin/functions/{name}, with a schedule taken from an app setting', async () => {
    const before = calls.filter((c) => c.fn === 'fromSetting').length;
    const response = await fetch(`${stack.httpUrl}/admin/functions/fromSetting`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(202);
    expect(calls.filter((c) => c.fn === 'fromSetting').length).toBe(before + 1);
    expect((await fetch(`${stack.httpUrl}/admin/functions/noSuchFunction`, { method: 'POST' })).status).toBe(404);
    expect((await fetch(`${stack.httpUrl}/admin/functions/echo`, { method: 'POST' })).status).toBe(400);
  });

  it('runs a timer asked for while it runs once that run has ended: two runs, one after the other', async () => {
    const run = () => fetch(`${stack.httpUrl}/admin/functions/slowTimer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const answers = await Promise.all([run(), run()]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    const runs = calls.filter((c) => c.fn.startsWith('slowTimer:'));
    expect(runs.map((c) => c.fn)).toEqual(['slowTimer:start', 'slowTimer:end', 'slowTimer:start', 'slowTimer:end']);
    expect(runs[2]!.at).toBeGreaterThanOrEqual(runs[1]!.at);
  });
});

describe('development host: Event Grid webhook', () => {
  it('answers the SubscriptionValidation handshake', async () => {
    const response = await webhook('onEvent', {
      method: 'POST',
      headers: { 'aeg-event-type': 'SubscriptionValidation', 'content-type': 'application/json' },
      body: JSON.stringify([{ ...eventGridEvent('v1', { validationCode: 'code-123', validationUrl: 'https://x' }), eventType: 'Microsoft.EventGrid.SubscriptionValidationEvent' }]),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ validationResponse: 'code-123' });
  });

  it('answers the CloudEvents OPTIONS handshake', async () => {
    const response = await webhook('onEvent', { method: 'OPTIONS', headers: { 'WebHook-Request-Origin': 'eventgrid.azure.net' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('webhook-allowed-origin')).toBe('eventgrid.azure.net');
  });

  it('invokes once per event and answers 202', async () => {
    const before = calls.filter((c) => c.fn === 'onEvent').length;
    const response = await webhook('onEvent', {
      method: 'POST',
      headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
      body: JSON.stringify([eventGridEvent('e1', { n: 1 }), eventGridEvent('e2', { n: 2 })]),
    });
    expect(response.status).toBe(202);
    const seen = calls.filter((c) => c.fn === 'onEvent').slice(before).map((c) => (c.input as { id: string }).id);
    expect(seen).toEqual(['e1', 'e2']);
  });

  it('invokes a CloudEvents batch once per event', async () => {
    const before = calls.filter((c) => c.fn === 'onEvent').length;
    const cloudEvent = (id: string) => ({ specversion: '1.0', id, source: '/s', type: 'Test.Cloud', time: new Date().toISOString(), data: {} });
    const response = await webhook('onEvent', {
      method: 'POST',
      headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/cloudevents-batch+json' },
      body: JSON.stringify([cloudEvent('c1'), cloudEvent('c2'), cloudEvent('c3')]),
    });
    expect(response.status).toBe(202);
    expect(calls.filter((c) => c.fn === 'onEvent').length).toBe(before + 3);
    expect(calls.filter((c) => c.fn === 'onEvent').slice(before).map((c) => (c.input as { id: string }).id)).toEqual(['c1', 'c2', 'c3']);
  });

  it('answers 500 when any event fails, so Event Grid redelivers', async () => {
    const before = calls.filter((c) => c.fn === 'onEvent').length;
    const response = await webhook('onEvent', {
      method: 'POST',
      headers: { 'aeg-event-type': 'Notification', 'content-type': 'application/json' },
      body: JSON.stringify([eventGridEvent('ok', {}), eventGridEvent('bad', { fail: true })]),
    });
    expect(response.status).toBe(500);
    expect(calls.filter((c) => c.fn === 'onEvent').slice(before).map((c) => (c.input as { id: string }).id)).toEqual(['ok', 'bad']);
  });

  it('answers 404 for an unknown function', async () => {
    const response = await webhook('nope', { method: 'POST', headers: { 'aeg-event-type': 'Notification' }, body: '[]' });
    expect(response.status).toBe(404);
  });

  it('runs an Event Grid function on demand through the admin endpoint', async () => {
    const before = calls.filter((c) => c.fn === 'onEvent').length;
    const response = await fetch(`${stack.httpUrl}/admin/functions/onEvent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: JSON.stringify(eventGridEvent('admin-1', {})) }),
    });
    expect(response.status).toBe(202);
    const last = calls.filter((c) => c.fn === 'onEvent')[before];
    expect((last?.input as { id: string }).id).toBe('admin-1');
    // Invoked exactly once, with the event given.
    expect(calls.filter((c) => c.fn === 'onEvent').slice(before).map((c) => (c.input as { id: string }).id)).toEqual(['admin-1']);
  });
});

describe('development host: several apps in one process', () => {
  it("serves each folder's own functions and runs only its own start hooks, beside another folder's host", async () => {
    const functionNames = (host: TestStack['host']) => host.functions().map((fn) => fn.metadata.name).sort();
    expect(functionNames(stack.host)).toEqual(['echo', 'everySecond', 'fromSetting', 'onEvent', 'optional', 'slowTimer', 'special', 'throws']);
    expect(calls.filter((c) => c.fn === 'fixtureAppStart')).toHaveLength(1);
    const queues = await startTestStack({ functionsDir: join(repoRoot, 'test', 'fixtures', 'queue-functions'), env: { FIXTURE_OTHER_QUEUE: 'fixture-other' } });
    try {
      expect(functionNames(queues.host)).toEqual(['queueAlwaysFails', 'queueFanOut', 'queueFanned', 'queueOther', 'queueSlow', 'queueWork']);
      expect(calls.filter((c) => c.fn === 'fixtureAppStart')).toHaveLength(1);
      // Each folder with its own instance of @azure/functions, and so its own programming model.
      const shim = installFunctionsCore();
      const loaded = () => Promise.reject(new Error('imported again'));
      const [fixtureApp, queueApp] = await Promise.all(['functions', 'queue-functions'].map((dir) => shim.load(join(repoRoot, 'test', 'fixtures', dir), loaded)));
      expect(fixtureApp!.programmingModel).toBeDefined();
      expect(queueApp!.programmingModel).toBeDefined();
      expect(queueApp!.programmingModel).not.toBe(fixtureApp!.programmingModel);
      expect((await fetch(`${stack.httpUrl}/items/special`)).status).toBe(200);
      const before = calls.filter((c) => c.fn === 'queueOther').length;
      await queues.runFunction('queueOther');
      expect(calls.filter((c) => c.fn === 'queueOther')).toHaveLength(before + 1);
    } finally {
      await queues.stop();
    }
    expect(functionNames(stack.host)).toHaveLength(8);
  });

  it('refuses to load a folder whose functions set no programming model: their @azure/functions already served another folder', async () => {
    const { app } = functionsLibraryOf(join(repoRoot, 'test', 'fixtures', 'functions'));
    const load = installFunctionsCore().load(join(repoRoot, 'test', 'fixtures', 'reused-library'), async () => {
      app.http('reused', { route: 'reused', handler: async () => ({ status: 204 }) });
    });
    await expect(load).rejects.toThrow(`The function files in ${join(repoRoot, 'test', 'fixtures', 'reused-library')} set no programming model`);
  });
});
