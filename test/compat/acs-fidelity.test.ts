import { CosmosClient } from '@azure/cosmos';
import { CommunicationIdentityClient } from '@azure/communication-identity';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { all, chatRequest, createChatUser, identityClient, userRef, type ChatUser } from '../support/chat-users.js';
import { trustDevCertificate } from '../support/sdk-options.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Where the official SDKs' own live tests look, the service answers as ACS does (the recorded live
 * sessions of @azure/communication-identity and @azure/communication-chat show ACS's answers). The
 * cases marked "ported" are the SDK test suites' cases with their assertions unchanged. Chat
 * throttling runs at ACS's figures here (CHAT_RATE_LIMIT_FACTOR 1).
 */

let stack: TestStack;
let resource: ResourceView;
let other: ResourceView;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  stack = await startTestStack({ clock, env: { CHAT_RATE_LIMIT_FACTOR: '1' } });
  [resource, other] = await Promise.all([stack.createResource('fidelity', 'Europe'), stack.createResource('fidelity-other', 'Europe')]);
});
afterAll(async () => stack?.stop());

const client = () => identityClient(stack, resource);

describe('identity: error cases (ported from communicationIdentityClient.spec.ts and tokenCustomExpiration.node.spec.ts)', () => {
  it('throws an error when attempting to issue a token without any scopes', async () => {
    const user = await client().createUser();
    try {
      await client().getToken(user, []);
      expect.fail('getToken with no scopes resolved');
    } catch (error: any) {
      expect(error.statusCode).toBe(400);
      expect(error.message).toBe('Invalid scopes - Scopes field is required.');
    }
  });

  it('throws an error when attempting to issue a token, revoke tokens or delete an invalid user (an identity of another resource)', async () => {
    const foreign = await new CommunicationIdentityClient(other.connectionString, trustDevCertificate(stack) as never).createUser();
    for (const call of [() => client().getToken(foreign, ['chat']), () => client().revokeTokens(foreign), () => client().deleteUser(foreign)]) {
      try {
        await call();
        expect.fail('resolved');
      } catch (error: any) {
        expect(error.statusCode).toBe(401);
        expect(error.code).toBe('IdentityNotOwned');
        expect(error.message).toBe("Provided identity doesn't belong to the resource.");
      }
    }
  });

  it('throws error when attempting to issue an invalid expiration token (59 and 1441 minutes), for getToken and createUserAndToken', async () => {
    const user = await client().createUser();
    for (const minutes of [59, 1441]) {
      for (const call of [() => client().getToken(user, ['chat'], { tokenExpiresInMinutes: minutes }), () => client().createUserAndToken(['chat'], { tokenExpiresInMinutes: minutes })]) {
        try {
          await call();
          expect.fail('resolved');
        } catch (error: any) {
          expect(error.statusCode).toBe(400);
          expect(error.message).toBe(`ExpiresInMinutes value ${minutes} is invalid. Value must be within the [60, 1440] interval.`);
        }
      }
    }
  });

  it('accepts the SDK retrying a signed request: the same x-ms-date and signature sent again', async () => {
    const url = new URL('/identities?api-version=2023-10-01', stack.httpUrl);
    url.searchParams.set('resource', resource.name);
    const body = '{}';
    const { signRequestHeaders } = await import('../../shared/auth/hmac-auth.js');
    const headers = { ...signRequestHeaders({ method: 'POST', url: url.toString(), body, key: resource.primaryKey, date: clock.now() }), 'content-type': 'application/json' };
    const first = await fetch(url, { method: 'POST', headers, body });
    const again = await fetch(url, { method: 'POST', headers, body });
    expect([first.status, again.status]).toEqual([201, 201]);
  });
});

describe('chat (ported from chatThreadClient.spec.ts)', () => {
  let alice: ChatUser;
  let bob: ChatUser;
  let threadId: string;

  beforeAll(async () => {
    [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    threadId = (await alice.chat.createChatThread({ topic: 'Fidelity' }, { participants: [{ id: userRef(bob) }], retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 60 } })).chatThread!.id;
  });

  it('successfully updates the thread retention policy to none retention policy by setting null', async () => {
    await alice.thread(threadId).updateProperties({ retentionPolicy: null as never });
    const props = await alice.thread(threadId).getProperties();
    expect(props.retentionPolicy).toEqual({ kind: 'none' });
  });

  it('successfully updates the thread retention policy, and to none retention policy', async () => {
    await alice.thread(threadId).updateProperties({ retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 90 } });
    expect((await alice.thread(threadId).getProperties()).retentionPolicy).toEqual({ kind: 'threadCreationDate', deleteThreadAfterDays: 90 });
    await alice.thread(threadId).updateProperties({ retentionPolicy: { kind: 'none' } });
    expect((await alice.thread(threadId).getProperties()).retentionPolicy).toEqual({ kind: 'none' });
  });

  it('successfully remove a participant who is not one: no error, no event, no system message', async () => {
    const carol = await createChatUser(stack, resource);
    const before = stack.topic!.received().length;
    await alice.thread(threadId).removeParticipant(userRef(carol));
    const messages = await all(alice.thread(threadId).listMessages());
    expect(messages.filter((m) => m.type === 'participantRemoved')).toEqual([]);
    expect(stack.topic!.received().length).toBe(before);
  });

  it('successfully lists messages one by one and by page: a page that ends at the last message is the last page', async () => {
    const t = (await alice.chat.createChatThread({ topic: 'Pages' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    await alice.thread(t).sendMessage({ content: 'one' });
    await bob.thread(t).sendMessage({ content: 'two' });
    const oneByOne = await all(alice.thread(t).listMessages());
    expect(oneByOne).toHaveLength(4);
    const maxPageSize = 2;
    let pagesCount = 0;
    const paged = [];
    for await (const page of alice.thread(t).listMessages({ maxPageSize }).byPage()) {
      pagesCount += 1;
      expect(page.length).toBeLessThanOrEqual(maxPageSize);
      paged.push(...page);
    }
    expect(pagesCount).toBe(Math.ceil(oneByOne.length / maxPageSize));
    expect(paged).toEqual(oneByOne);
  });

  it('lists threads, participants and read receipts with no trailing empty page', async () => {
    const pages = async <T>(iterable: AsyncIterable<T[]>) => {
      const sizes: number[] = [];
      for await (const page of iterable) sizes.push(page.length);
      return sizes;
    };
    const carol = await createChatUser(stack, resource);
    const t1 = (await carol.chat.createChatThread({ topic: 'One' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    await carol.chat.createChatThread({ topic: 'Two' });
    expect(await pages(carol.chat.listChatThreads({ maxPageSize: 2 }).byPage())).toEqual([2]);
    expect(await pages(carol.thread(t1).listParticipants({ maxPageSize: 1 }).byPage())).toEqual([1, 1]);
    const { id } = await carol.thread(t1).sendMessage({ content: 'read me' });
    await carol.thread(t1).sendReadReceipt({ chatMessageId: id });
    await bob.thread(t1).sendReadReceipt({ chatMessageId: id });
    expect(await pages(carol.thread(t1).listReadReceipts({ maxPageSize: 2 }).byPage())).toEqual([2]);
  });
});

describe('chat throttling at ACS figures', () => {
  const chatCall = (user: ChatUser, method: string, path: string, body?: unknown) => chatRequest(stack, resource.name, user.token, method, path, body);
  const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
  const storedTexts = async (threadId: string) =>
    (
      await cosmos()
        .database('acs-europe')
        .container('chatThreads')
        .items.query({ query: 'SELECT * FROM c WHERE c.threadId = @t AND c.type = "text"', parameters: [{ name: '@t', value: threadId }] })
        .fetchAll()
    ).resources.length;

  it('sends: 10 per thread per 10 s and 30 per minute, then 429 "Rate limit exceeded." with Retry-After; nothing stored past the limit', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const threadId = (await alice.chat.createChatThread({ topic: 'Throttled' }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
    const start = clock.now().getTime();
    try {
      // Two senders share the thread's limit.
      for (let i = 0; i < 10; i += 1) expect((await chatCall(i % 2 ? bob : alice, 'POST', `/chat/threads/${threadId}/messages`, { content: `m${i}` })).status).toBe(201);
      const refused = await chatCall(bob, 'POST', `/chat/threads/${threadId}/messages`, { content: 'one too many' });
      expect(refused).toMatchObject({ status: 429, body: { error: { code: 'TooManyRequests', message: 'Rate limit exceeded.' } } });
      expect(Number(refused.headers.get('retry-after'))).toBe(10);
      expect(await storedTexts(threadId)).toBe(10);
      // Another thread has its own limit.
      const elsewhere = (await alice.chat.createChatThread({ topic: 'Elsewhere' })).chatThread!.id;
      expect((await chatCall(alice, 'POST', `/chat/threads/${elsewhere}/messages`, { content: 'fine' })).status).toBe(201);
      // The next 10-second windows take 10 each, until the minute's 30.
      for (const window of [1, 2]) {
        clock.set(new Date(start + window * 10_000));
        for (let i = 0; i < 10; i += 1) expect((await chatCall(alice, 'POST', `/chat/threads/${threadId}/messages`, { content: `w${window}-${i}` })).status).toBe(201);
      }
      clock.set(new Date(start + 30_000));
      expect((await chatCall(alice, 'POST', `/chat/threads/${threadId}/messages`, { content: 'minute full' })).status).toBe(429);
      expect(await storedTexts(threadId)).toBe(30);
      clock.set(new Date(start + 60_000));
      expect((await chatCall(alice, 'POST', `/chat/threads/${threadId}/messages`, { content: 'next minute' })).status).toBe(201);
    } finally {
      clock.set(new Date(Math.max(clock.now().getTime(), start + 60_000)));
    }
  });

  it('thread creation: 10 per user per 10 s; another user is not affected', async () => {
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    for (let i = 0; i < 10; i += 1) expect((await chatCall(alice, 'POST', '/chat/threads', { topic: `t${i}` })).status).toBe(201);
    expect((await chatCall(alice, 'POST', '/chat/threads', { topic: 'eleventh' })).status).toBe(429);
    expect((await chatCall(bob, 'POST', '/chat/threads', { topic: 'bob' })).status).toBe(201);
    expect((await all(alice.chat.listChatThreads())).length).toBe(10);
  });
});
