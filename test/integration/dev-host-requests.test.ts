import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { rawRequest, type RawResponse, type RawTarget } from '../support/raw-http.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * The development host against requests no well-behaved client sends: it answers them (400 in the
 * ACS error shape, or Node's own 400/431) and keeps serving; and it never routes a path that has
 * dot segments or encoded slashes, which URL parsing would otherwise fold onto a parent route.
 */

let stack: TestStack;
let resource: ResourceView;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  stack = await startTestStack();
  resource = await stack.createResource('dev-host-requests', 'Europe');
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await stack?.stop();
});

const listeners = (): [string, RawTarget][] => [
  ['http', { url: stack.httpUrl }],
  ['https', { url: stack.httpsUrl, ca: stack.tls.cert }],
];

const hostOf = (target: RawTarget) => new URL(target.url).host;

/** A well-formed management request on the same listener: the host must still answer it. */
async function stillServes(target: RawTarget): Promise<void> {
  const response = await rawRequest(
    target,
    `GET /api/management/resources HTTP/1.1\r\nHost: ${hostOf(target)}\r\nAuthorization: Bearer ${stack.managementKey}\r\nConnection: close\r\n\r\n`,
  );
  expect(response.status).toBe(200);
  expect(JSON.parse(response.body)).toMatchObject({ value: expect.any(Array) });
  // Exactly the one resource of this file: no malformed request created one.
  expect((JSON.parse(response.body) as { value: { name: string }[] }).value.map((r) => r.name)).toEqual([resource.name]);
}

function expectAcsBadRequest(response: RawResponse): { code: string; message: string } {
  expect(response.status).toBe(400);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const error = (JSON.parse(response.body) as { error: { code: string; message: string } }).error;
  expect(error.code).toBe('BadRequest');
  expect(typeof error.message).toBe('string');
  return error;
}

const get = (target: string, host: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;

describe.each([['http'], ['https']])('development host over %s: malformed requests', (name) => {
  const target = () => listeners().find(([n]) => n === name)![1];

  it.each([
    ['Host: [', () => get('/api/management/resources', '[')],
    ['Host: a b', () => get('/api/management/resources', 'a b')],
    ['Host: a@evil', () => get('/api/management/resources', 'a@evil')],
    ['Host with a path', () => get('/api/management/resources', 'evil/x?')],
    ['a very long Host', () => get('/api/management/resources', 'a'.repeat(2000))],
    ['two Host headers', () => `GET /api/management/resources HTTP/1.1\r\nHost: ${hostOf(target())}\r\nHost: evil\r\nConnection: close\r\n\r\n`],
    ['invalid percent-encoding in the path', () => get('/%zz', hostOf(target()))],
    ['percent-encoding that is not UTF-8', () => get('/api/management/resources/%ff', hostOf(target()))],
    ['request target *', () => `OPTIONS * HTTP/1.1\r\nHost: ${hostOf(target())}\r\nConnection: close\r\n\r\n`],
    ['absolute-form request target', () => get('http://x/api/management/resources', hostOf(target()))],
    ['a fragment in the request target', () => get('/api/management/resources#x', hostOf(target()))],
  ])('answers 400 in the ACS shape for %s, and keeps serving', async (_case, request) => {
    expectAcsBadRequest(await rawRequest(target(), request()));
    await stillServes(target());
  });

  it.each([
    ['NUL in the path', () => get('/api/\u0000x', hostOf(target()))],
    ['a control character in the path', () => get('/api/\u0001x', hostOf(target()))],
    ['a byte above 0x7f in the path', () => get('/api/\u00ffx', hostOf(target()))],
    ['NUL in a header', () => get('/api/management/resources', hostOf(target()), 'X-Test: a\u0000b\r\n')],
    ['a control character in the Host', () => get('/api/management/resources', 'a\u0001b')],
    ['a request line that is not HTTP', () => 'HELLO\r\n\r\n'],
  ])('answers 400 for %s (refused by the HTTP parser), and keeps serving', async (_case, request) => {
    const response = await rawRequest(target(), request());
    expectAcsBadRequest(response);
    await stillServes(target());
  });

  it('answers 431 for a huge header, and keeps serving', async () => {
    const response = await rawRequest(target(), get('/api/management/resources', hostOf(target()), `X-Big: ${'x'.repeat(100_000)}\r\n`));
    expect(response.status).toBe(431);
    await stillServes(target());
  });

  it('survives a body shorter than its Content-Length and a closed socket, on a function route and on the host routes', async () => {
    for (const path of ['/api/management/resources/truncated', `/runtime/webhooks/eventgrid?functionName=recordingLanding`, '/admin/functions/outboxRepublish']) {
      const head = `PUT ${path} HTTP/1.1\r\nHost: ${hostOf(target())}\r\nAuthorization: Bearer ${stack.managementKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n`;
      await rawRequest(target(), `${head}{"geography": "Eur`, { abortAfterWrite: true });
      await rawRequest(target(), `${head.replace('PUT', 'POST')}[{"id":`, { abortAfterWrite: true });
      await stillServes(target());
    }
    // The management route never saw a whole body: nothing was created.
    expect((await stack.management('GET', '/api/management/resources/truncated')).status).toBe(404);
  });

  it('routes a path that starts with // on this host, never elsewhere', async () => {
    const response = await rawRequest(target(), `GET //evil.example/api/management/resources HTTP/1.1\r\nHost: ${hostOf(target())}\r\nAuthorization: Bearer ${stack.managementKey}\r\nConnection: close\r\n\r\n`);
    expect(response.status).toBe(404);
    await stillServes(target());
  });
});

describe('development host: dot segments and encoded separators in the path', () => {
  let alice: ChatUser;
  let bob: ChatUser;
  let threadId: string;
  let messageId: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    threadId = (await alice.chat.createChatThread({ topic: 'Dots' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    messageId = (await alice.thread(threadId).sendMessage({ content: 'still here' })).id;
  });

  const query = () => `?resource=${resource.name}&api-version=2025-03-15`;
  const threadPath = () => `/chat/threads/${encodeURIComponent(threadId)}`;
  const asAlice = (method: string, path: string, target: RawTarget) =>
    rawRequest(target, `${method} ${path} HTTP/1.1\r\nHost: ${hostOf(target)}\r\nAuthorization: Bearer ${alice.token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);

  it.each([
    ['..', (t: string) => `${t}/messages/..`],
    ['%2e%2e', (t: string) => `${t}/messages/%2e%2e`],
    ['.%2E', (t: string) => `${t}/messages/.%2E`],
    ['%2E.', (t: string) => `${t}/messages/%2E.`],
    ['.. followed by more segments', (t: string) => `${t}/messages/../../${encodeURIComponent(threadId)}`],
    ['.', (t: string) => `${t}/messages/${'0'}/.`],
    ['%2e', (t: string) => `${t}/%2e`],
    ['%2f', (t: string) => `${t}/messages%2f..`],
    ['%2F', (t: string) => `${t}%2Fmessages`],
    ['%5c', (t: string) => `${t}/messages%5c..`],
    ['a literal backslash', (t: string) => `${t}/messages\\..`],
  ])('refuses DELETE with %s in the path (400 naming the path) and deletes nothing', async (_case, pathOf) => {
    for (const [, target] of listeners()) {
      const path = pathOf(threadPath());
      const response = await asAlice('DELETE', `${path}${query()}`, target);
      const error = expectAcsBadRequest(response);
      expect(error.message).toContain(path);
    }
    const thread = await alice.thread(threadId).getProperties();
    expect(thread.id).toBe(threadId);
    expect((await alice.thread(threadId).getMessage(messageId)).content?.message).toBe('still here');
  });

  it('still serves the same operations on well-formed paths (dots inside a segment are not dot segments)', async () => {
    const notAMessage = await asAlice('GET', `${threadPath()}/messages/...${query()}`, listeners()[0]![1]);
    expect(notAMessage.status).toBe(404);
    const message = await asAlice('GET', `${threadPath()}/messages/${messageId}${query()}`, listeners()[0]![1]);
    expect(message.status).toBe(200);
    expect(JSON.parse(message.body)).toMatchObject({ id: messageId });
  });

  it('never produced an unhandled rejection', () => {
    expect(unhandled).toEqual([]);
  });
});
