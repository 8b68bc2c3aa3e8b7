import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { all, createChatUser, type ChatUser } from '../support/chat-users.js';
import { startTestStack, toTestResponse, type ResourceView, type TestResponse, type TestStack } from '../support/test-stack.js';

/**
 * Time values in chat requests are instants: parsed with their offset, refused outside the range
 * whose canonical UTC form has a four-digit year, and stored in that one canonical form, so that
 * every stored time compares with every other (and with message times) as an instant.
 */

let stack: TestStack;
let resource: ResourceView;
const clock = new ManualClock(new Date());
const tick = () => clock.advance(1000);

let alice: ChatUser;
let threadId: string;

beforeAll(async () => {
  stack = await startTestStack({ clock });
  resource = await stack.createResource('chat-times', 'Europe');
  alice = await createChatUser(stack, resource);
  threadId = (await alice.chat.createChatThread({ topic: 'Times' })).chatThread!.id;
  for (const content of ['first', 'second']) {
    tick();
    await alice.thread(threadId).sendMessage({ content });
  }
  tick();
});
afterAll(async () => stack?.stop());

const API = 'api-version=2025-03-15';
const chatUrl = (path: string, query = '') => `${stack.httpUrl}${path}?resource=${resource.name}&${API}${query}`;

async function asUser(user: ChatUser, method: string, path: string, body?: unknown, query = ''): Promise<TestResponse> {
  return toTestResponse(
    await fetch(chatUrl(path, query), {
      method,
      headers: { authorization: `Bearer ${user.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }),
  );
}

const threadPath = () => `/chat/threads/${encodeURIComponent(threadId)}`;
const addParticipant = (user: ChatUser, shareHistoryTime: string) =>
  asUser(alice, 'POST', `${threadPath()}/participants/:add`, { participants: [{ communicationIdentifier: { rawId: user.id, communicationUser: { id: user.id } }, shareHistoryTime }] });

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });

async function storedParticipant(identityId: string): Promise<Record<string, unknown> | undefined> {
  const { resources } = await cosmos()
    .database('acs-europe')
    .container('chatThreads')
    .items.query<Record<string, unknown>>({
      query: "SELECT * FROM c WHERE c.threadId = @threadId AND c.kind = 'participant' AND c.identityId = @identityId",
      parameters: [
        { name: '@threadId', value: threadId },
        { name: '@identityId', value: identityId },
      ],
    })
    .fetchAll();
  return resources[0];
}

const texts = async (user: ChatUser) => (await all(user.thread(threadId).listMessages())).filter((m) => m.type === 'text').map((m) => m.content?.message);

describe('shareHistoryTime', () => {
  it('refuses an instant past 9999-12-31T23:59:59.999Z in UTC (9999-12-31T23:59:59-23:59 is in the year 10000), naming the field, and stores nothing', async () => {
    const bob = await createChatUser(stack, resource);
    const response = await addParticipant(bob, '9999-12-31T23:59:59-23:59');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'ValidationError', target: 'participants.0.shareHistoryTime' });
    expect(response.body.error.message).toContain('participants.0.shareHistoryTime');
    expect(await storedParticipant(bob.id)).toBeUndefined();
    await expect(bob.thread(threadId).getProperties()).rejects.toMatchObject({ statusCode: 403 });
  });

  it('refuses an instant before 0000-01-01T00:00:00Z in UTC', async () => {
    const bob = await createChatUser(stack, resource);
    const response = await addParticipant(bob, '0000-01-01T00:00:00+00:01');
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ target: 'participants.0.shareHistoryTime' });
    expect(await storedParticipant(bob.id)).toBeUndefined();
  });

  it('accepts 9999-12-31T00:00:00Z, which hides all history (and what is sent later, before then)', async () => {
    const carol = await createChatUser(stack, resource);
    expect((await addParticipant(carol, '9999-12-31T00:00:00Z')).status).toBe(201);
    expect((await storedParticipant(carol.id))?.shareHistoryTime).toBe('9999-12-31T00:00:00.000Z');
    const start = clock.now();
    try {
      tick();
      await alice.thread(threadId).sendMessage({ content: 'after carol' });
    } finally {
      clock.set(start);
    }
    expect(await texts(carol)).toEqual([]);
    const [latest] = await all(alice.thread(threadId).listMessages());
    await expect(carol.thread(threadId).getMessage(latest!.id)).rejects.toMatchObject({ statusCode: 404 });
    expect(await texts(alice)).toEqual(['after carol', 'second', 'first']);
  });

  it('stores a value with an offset as the same instant in canonical UTC form', async () => {
    const dave = await createChatUser(stack, resource);
    expect((await addParticipant(dave, '2030-01-01T05:00:00+05:00')).status).toBe(201);
    expect((await storedParticipant(dave.id))?.shareHistoryTime).toBe('2030-01-01T00:00:00.000Z');
    const listed = await all(alice.thread(threadId).listParticipants());
    expect(listed.find((p) => (p.id as { communicationUserId: string }).communicationUserId === dave.id)?.shareHistoryTime?.toISOString()).toBe('2030-01-01T00:00:00.000Z');
  });

  it('compares instants, not texts: a time with an offset shows exactly the messages from that instant on', async () => {
    const erin = await createChatUser(stack, resource);
    const [second] = (await all(alice.thread(threadId).listMessages())).filter((m) => m.content?.message === 'second');
    // The instant of 'second', written at a -10:00 offset: as text it sorts before it, as an instant it is the same.
    const at = second!.createdOn;
    const local = new Date(at.getTime() - 10 * 3600_000).toISOString().replace(/Z$/, '-10:00');
    expect((await addParticipant(erin, local)).status).toBe(201);
    expect(await texts(erin)).toEqual(['after carol', 'second']);
    // The same participant, through the same instant in the query: startTime and shareHistoryTime together.
    const page = await asUser(erin, 'GET', `${threadPath()}/messages`, undefined, `&startTime=${encodeURIComponent(local)}`);
    expect(page.status).toBe(200);
    expect((page.body.value as { type: string; content?: { message?: string } }[]).filter((m) => m.type === 'text').map((m) => m.content?.message)).toEqual(['after carol', 'second']);
  });
});

describe('a shareHistoryTime stored before this validation (not in the canonical form)', () => {
  async function storeShareHistoryTime(identityId: string, value: string): Promise<void> {
    const item = (await storedParticipant(identityId))!;
    await cosmos().database('acs-europe').container('chatThreads').item(item.id as string, threadId).replace({ ...item, shareHistoryTime: value });
  }

  it('with a six-digit year still hides all history', async () => {
    const frank = await createChatUser(stack, resource);
    expect((await addParticipant(frank, '2000-01-01T00:00:00Z')).status).toBe(201);
    expect(await texts(frank)).toEqual(['after carol', 'second', 'first']);
    await storeShareHistoryTime(frank.id, '+010000-01-01T23:58:59.000Z');
    expect(await texts(frank)).toEqual([]);
    const [latest] = await all(alice.thread(threadId).listMessages());
    await expect(frank.thread(threadId).getMessage(latest!.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it('with an offset is compared as the instant it names, not as text', async () => {
    const grace = await createChatUser(stack, resource);
    expect((await addParticipant(grace, '2000-01-01T00:00:00Z')).status).toBe(201);
    const messages = await all(alice.thread(threadId).listMessages());
    const second = messages.find((m) => m.content?.message === 'second')!;
    const first = messages.find((m) => m.content?.message === 'first')!;
    // The instant of 'second' at -10:00: as text it sorts before 'first', as an instant it is after it.
    await storeShareHistoryTime(grace.id, new Date(second.createdOn.getTime() - 10 * 3600_000).toISOString().replace(/Z$/, '-10:00'));
    expect(await texts(grace)).toEqual(['after carol', 'second']);
    await expect(grace.thread(threadId).getMessage(first.id)).rejects.toMatchObject({ statusCode: 404 });
    expect((await grace.thread(threadId).getMessage(second.id)).content?.message).toBe('second');
  });
});

describe('startTime', () => {
  it.each([
    ['the messages of a thread', () => `${threadPath()}/messages`],
    ['the threads of a user', () => '/chat/threads'],
  ])('is a 400 naming startTime when out of range, for %s', async (_case, path) => {
    const outOfRange = 'must be an instant from 0000-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (in UTC)';
    for (const [value, why] of [
      ['9999-12-31T23:59:59-23:59', outOfRange],
      ['0000-01-01T00:00:00+00:01', outOfRange],
      ['not a time', 'must be an RFC 3339 date-time'],
    ] as const) {
      const response = await asUser(alice, 'GET', path(), undefined, `&startTime=${encodeURIComponent(value)}`);
      expect(response.status).toBe(400);
      expect(response.body.error.message).toContain('startTime');
      expect(response.body.error).toMatchObject({ code: 'ValidationError', message: `Invalid query parameter 'startTime': ${why}` });
    }
    const fine = await asUser(alice, 'GET', path(), undefined, `&startTime=${encodeURIComponent('2000-01-01T01:00:00+01:00')}`);
    expect(fine.status).toBe(200);
  });

  it('with an offset selects by instant', async () => {
    const [second] = (await all(alice.thread(threadId).listMessages())).filter((m) => m.content?.message === 'second');
    const local = new Date(second!.createdOn.getTime() + 5 * 3600_000).toISOString().replace(/Z$/, '+05:00');
    const page = await asUser(alice, 'GET', `${threadPath()}/messages`, undefined, `&startTime=${encodeURIComponent(local)}`);
    expect((page.body.value as { type: string; content?: { message?: string } }[]).filter((m) => m.type === 'text').map((m) => m.content?.message)).toEqual(['after carol', 'second']);
  });
});
