import { CosmosClient } from '@azure/cosmos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { all, chatRequest, createChatUser, identityClient, userRef, type ChatUser } from '../support/chat-users.js';
import { parseSettings } from '../../shared/config/settings.js';
import { createServices, services } from '../../shared/services.js';
import { PrivacyClient } from '../support/privacy.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Races a heavy user or an attacker can start: concurrent participant adds against the 250 cap,
 * sends racing the sender's removal, an identity used while it is being deleted, and a
 * repeatability id reused after its thread was deleted. Each is checked down to what is stored.
 */

let stack: TestStack;
let resource: ResourceView;

beforeAll(async () => {
  stack = await startTestStack({ env: { RATE_LIMIT_IDENTITY_CREATE: '1000000', RATE_LIMIT_IDENTITY_DELETE: '1000000' } });
  resource = await stack.createResource('chat-races', 'Europe');
});
afterAll(async () => stack?.stop());

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const container = (name: string) => cosmos().database('acs-europe').container(name);
const query = async <T>(name: string, sql: string, parameters: { name: string; value: string }[] = []) =>
  (await container(name).items.query<T>({ query: sql, parameters }).fetchAll()).resources;

type Stored = { id: string; kind?: string; type?: string; sequence?: number; senderId?: string; removedOn?: string; identityId?: string };
const threadItems = (threadId: string) => query<Stored>('chatThreads', 'SELECT * FROM c WHERE c.threadId = @t', [{ name: '@t', value: threadId }]);

/** Identities for a test's set-up, made by the identity service itself (the SDK's path to it is proved elsewhere), 50 at a time. */
async function createUsers(count: number): Promise<string[]> {
  const live = (await services().resources.get('chat-races'))!;
  const ids: string[] = [];
  for (let i = 0; i < count; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, count - i) }, () => services().identities.create(live, {})));
    ids.push(...batch.map((made) => made.identity.id));
  }
  return ids;
}

const chatCall = (user: ChatUser, method: string, path: string, body?: unknown) => chatRequest(stack, 'chat-races', user.token, method, path, body);

describe('the participant cap under concurrency', () => {
  it('8 concurrent adds of 5 into a thread of 230: exactly 4 succeed, the thread holds 250, and one more is refused', async () => {
    const alice = await createChatUser(stack, resource);
    const users = await createUsers(229 + 8 * 5);
    const initial = users.slice(0, 229);
    const threadId = (await alice.chat.createChatThread({ topic: 'Cap' }, { participants: initial.map((id) => ({ id: { communicationUserId: id } })) })).chatThread!.id;
    const add = (ids: string[]) => chatCall(alice, 'POST', `/chat/threads/${threadId}/participants/:add`, { participants: ids.map((id) => ({ communicationIdentifier: { rawId: id } })) });
    const groups = Array.from({ length: 8 }, (_, g) => users.slice(229 + g * 5, 229 + g * 5 + 5));
    const answers = await Promise.all(groups.map(add));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(4);
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(4);
    for (const r of refused) expect(r).toMatchObject({ status: 400, body: { error: { code: 'ValidationError', target: 'participants' } } });

    const items = await threadItems(threadId);
    const active = items.filter((i) => i.kind === 'participant' && !i.removedOn);
    expect(active).toHaveLength(250);
    expect(items.filter((i) => i.type === 'participantAdded')).toHaveLength(1 + 4);
    const memberships = await query('chatMemberships', 'SELECT * FROM c WHERE c.threadId = @t', [{ name: '@t', value: threadId }]);
    expect(memberships).toHaveLength(250);
    const [thread] = items.filter((i) => i.kind === 'thread') as unknown as { roster: string[] }[];
    expect(new Set(thread!.roster)).toEqual(new Set(active.map((p) => p.identityId)));

    // At the cap, one more is refused and stores nothing; after a removal, one fits again.
    const outside = users.slice(229).filter((id) => !thread!.roster.includes(id));
    expect(await add([outside[0]!])).toMatchObject({ status: 400, body: { error: { target: 'participants' } } });
    expect((await threadItems(threadId)).filter((i) => i.kind === 'participant')).toHaveLength(250);
    expect((await chatCall(alice, 'POST', `/chat/threads/${threadId}/participants/:remove`, { communicationUser: { id: initial[0]! } })).status).toBe(204);
    expect((await add([outside[0]!])).status).toBe(201);
    expect((await threadItems(threadId)).filter((i) => i.kind === 'participant' && !i.removedOn)).toHaveLength(250);
  });

  it('the same participants added by concurrent requests are added once, with one system message', async () => {
    const alice = await createChatUser(stack, resource);
    const threadId = (await alice.chat.createChatThread({ topic: 'Same' })).chatThread!.id;
    const users = await createUsers(10);
    const body = { participants: users.map((id) => ({ communicationIdentifier: { rawId: id } })) };
    const answers = await Promise.all(Array.from({ length: 6 }, () => chatCall(alice, 'POST', `/chat/threads/${threadId}/participants/:add`, body)));
    expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201, 201, 201]);
    const items = await threadItems(threadId);
    expect(items.filter((i) => i.kind === 'participant')).toHaveLength(11);
    expect(items.filter((i) => i.type === 'participantAdded')).toHaveLength(2);
  });
});

describe('a removal racing sends', () => {
  it('no message of the removed participant has a sequence after the removal, and every accepted send is stored', async () => {
    for (let round = 0; round < 4; round += 1) {
      const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
      const threadId = (await alice.chat.createChatThread({ topic: `Race ${round}` }, { participants: [{ id: userRef(bob) }] })).chatThread!.id;
      const sends = Array.from({ length: 40 }, (_, i) => chatCall(bob, 'POST', `/chat/threads/${threadId}/messages`, { content: `m${i}` }));
      await new Promise((resolve) => setTimeout(resolve, 5 * round));
      const removal = chatCall(alice, 'POST', `/chat/threads/${threadId}/participants/:remove`, { communicationUser: { id: bob.id } });
      const answers = await Promise.all(sends);
      expect((await removal).status).toBe(204);
      for (const a of answers) expect([201, 403]).toContain(a.status);

      const items = await threadItems(threadId);
      const removed = items.filter((i) => i.type === 'participantRemoved');
      expect(removed).toHaveLength(1);
      const bobs = items.filter((i) => i.kind === 'message' && i.senderId === bob.id && (i.type === 'text' || i.type === 'html'));
      expect(bobs.filter((m) => m.sequence! > removed[0]!.sequence!), `round ${round}`).toEqual([]);
      expect(bobs).toHaveLength(answers.filter((a) => a.status === 201).length);
    }
  });
});

describe('an identity used while it is being deleted', () => {
  // Three rounds of a busy deletion (each drains Dave's in-flight requests): a minute on a loaded machine.
  it('when the deletion answers, nothing it wrote concurrently remains and no token issued meanwhile works', async () => {
    for (let round = 0; round < 3; round += 1) await deleteWhileBusy(round, (dave) => identityClient(stack, resource).deleteUser(userRef(dave)));
  }, 180_000);

  it('the same holds for a data subject delete: when it has succeeded, nothing of the identity remains', async () => {
    const privacy = new PrivacyClient(() => stack, resource);
    for (let round = 0; round < 1; round += 1) {
      await deleteWhileBusy(round, async (dave) => {
        const finished = await privacy.run('delete', { identityIds: [dave.id] });
        expect(finished.status).toBe('succeeded');
      }, ['outbox']);
    }
  });
});

describe('a send whose caller\'s deletion begins on another instance once the message is written', () => {
  it('answers 401, the message is erased, and the one operation log record of the request says 401', async () => {
    const [alice, dave] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const { chatThread } = await alice.chat.createChatThread({ topic: 'Deleted while sending' }, { participants: [{ id: userRef(dave) }] });
    const threadId = chatThread!.id;
    const other = createServices(parseSettings(stack.env));
    const messages = services().chat.messages;
    const send = messages.send.bind(messages);
    const sequenceOf = async () => (await threadItems(threadId)).find((i) => i.kind === 'thread')!.sequence!;
    const before = await sequenceOf();
    // The message has landed (this instance's send is done); then the deletion marks Dave elsewhere, where it cannot wait for this request.
    messages.send = async (caller, thread, input) => {
      const sent = await send(caller, thread, input);
      await other.identities.beginDeletion((await other.resources.resolveActive('chat-races'))!, dave.id);
      return sent;
    };
    try {
      const answer = await chatCall(dave, 'POST', `/chat/threads/${threadId}/messages`, { content: 'just in time?' });
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: { code: 'Unauthorized', message: 'The access token is not valid.' } });
      // The send took its sequence id and wrote; the check after it erased what Dave wrote.
      expect(await sequenceOf()).toBe(before + 1);
      expect((await threadItems(threadId)).filter((i) => i.senderId === dave.id)).toEqual([]);
      const correlationId = answer.headers.get('x-ms-correlation-id')!;
      const records = await query<{ status: number; operation: string; durationMs: number }>('operationLogs', 'SELECT * FROM c WHERE c.correlationId = @c', [{ name: '@c', value: correlationId }]);
      expect(records.map((r) => [r.operation, r.status])).toEqual([['SendChatMessage', 401]]);
    } finally {
      messages.send = send;
      other.dispose();
    }
  });
});

describe('a thread created by an identity whose deletion began during the request', () => {
  it('is refused with 401 and writes nothing: a thread without its creator as member could not be found by the deletion', async () => {
    const [alice, dave] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const live = await services().resources.get('chat-races');
    // Dave's request passed its token check; then his deletion began (it waits for this request).
    await services().identities.beginDeletion(live!, dave.id);
    const create = services().chat.threads.create({ resource: live!, identityId: dave.id, scopes: ['chat'] }, { topic: 'Too late', participants: [{ communicationIdentifier: alice.id }] });
    await expect(create).rejects.toMatchObject({ code: 'Unauthorized', message: 'The access token is not valid.' });
    expect(await query('chatThreads', 'SELECT c.id FROM c WHERE c.topic = @t', [{ name: '@t', value: 'Too late' }])).toEqual([]);
    expect(await query('chatMemberships', 'SELECT c.id FROM c WHERE c.identityId = @a', [{ name: '@a', value: alice.id }])).toEqual([]);
    // Alice, still usable, creates a thread with the deleted Dave: he is reported invalid and not added.
    const made = await services().chat.threads.create({ resource: live!, identityId: alice.id, scopes: ['chat'] }, { topic: 'Without Dave', participants: [{ communicationIdentifier: dave.id }] });
    expect(made.invalidParticipants).toEqual([{ code: 'NotFound', message: `Identity '${dave.id}' does not exist in this resource.`, target: dave.id }]);
  });
});

/** Dave keeps writing (sends, new threads, new tokens) while his identity is deleted. */
async function deleteWhileBusy(round: number, erase: (dave: ChatUser) => Promise<unknown>, alsoErased: string[] = []): Promise<void> {
  const alice = await createChatUser(stack, resource);
  const dave = await createChatUser(stack, resource);
  // Enough of Dave's data that erasing it takes a while; the loops write into the thread it erases first.
  const threads: string[] = [];
  for (let i = 0; i < 8; i += 1) threads.push((await alice.chat.createChatThread({ topic: `Deletion ${i}` }, { participants: [{ id: userRef(dave) }] })).chatThread!.id);
  await Promise.all(threads.flatMap((t) => Array.from({ length: 6 }, (_, i) => dave.thread(t).sendMessage({ content: `before ${i}` }))));
  const threadId = threads.at(-1)!;
  const identities = identityClient(stack, resource);
  let stop = false;
  const tokens: string[] = [];
  const statuses: number[] = [];
  // A loop writes until a request of its own is refused: the deletion revokes Dave first, and every
  // later request is refused at authentication, so more of them would only take CPU from the deletion.
  // The requests in flight when the revocation lands race the erasure as before.
  const busy = async (work: () => Promise<number>) => {
    while (!stop) {
      const status = await work().catch(() => 0);
      statuses.push(status);
      if (status !== 201) return;
    }
  };
  const loops = [
    ...Array.from({ length: 4 }, (_, i) => busy(async () => (await chatCall(dave, 'POST', `/chat/threads/${threadId}/messages`, { content: `loop ${i}` })).status)),
    ...Array.from({ length: 2 }, () => busy(async () => (await chatCall(dave, 'POST', '/chat/threads', { topic: 'Dave alone', participants: [{ communicationIdentifier: { rawId: alice.id } }] })).status)),
    busy(async () => {
      const { token } = await identities.getToken(userRef(dave), ['chat']);
      tokens.push(token);
      return (await chatCall({ ...dave, token }, 'POST', `/chat/threads/${threadId}/messages`, { content: 'with a new token' })).status;
    }),
  ];
  // The deletion starts while the loops are writing (a few of their writes have landed).
  const accepted = () => statuses.filter((s) => s === 201).length;
  while (accepted() < 5) await new Promise((resolve) => setTimeout(resolve, 10));
  await erase(dave);

  const named = async () => {
    const found: string[] = [];
    for (const name of ['chatThreads', 'chatMemberships', 'identities', ...alsoErased]) {
      for (const item of await query<Record<string, unknown>>(name, 'SELECT * FROM c')) if (JSON.stringify(item).includes(dave.id)) found.push(`${name}:${String(item.id)}`);
    }
    return found;
  };
  expect(await named(), `round ${round}, when the deletion answered`).toEqual([]);
  stop = true;
  await Promise.all(loops);
  expect(await named(), `round ${round}, after the loops ended`).toEqual([]);
  for (const token of [dave.token, ...tokens]) expect((await chatCall({ ...dave, token }, 'GET', `/chat/threads/${threadId}`)).status).toBe(401);
  expect((await alice.thread(threadId).listMessages().next()).done).toBe(false);
}

describe('repeatability and edits', () => {
  it('a repeatability id reused after its thread was deleted is a 409, and no thread exists', async () => {
    const alice = await createChatUser(stack, resource);
    const created = await alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: 'reused-after-delete' });
    const threadId = created.chatThread!.id;
    expect((await alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: 'reused-after-delete' })).chatThread!.id).toBe(threadId);
    await alice.chat.deleteChatThread(threadId);
    await expect(alice.chat.createChatThread({ topic: 'Once' }, { idempotencyToken: 'reused-after-delete' })).rejects.toMatchObject({ statusCode: 409 });
    expect((await chatCall(alice, 'GET', `/chat/threads/${threadId}`)).status).toBe(404);
    expect(await all(alice.chat.listChatThreads())).toEqual([]);
  });

  it('an edit that changes nothing is a 400 and leaves the message unedited', async () => {
    const alice = await createChatUser(stack, resource);
    const threadId = (await alice.chat.createChatThread({ topic: 'Edits' })).chatThread!.id;
    const { id } = await alice.thread(threadId).sendMessage({ content: 'as sent' });
    expect(await chatCall(alice, 'PATCH', `/chat/threads/${threadId}/messages/${id}`, {})).toMatchObject({ status: 400, body: { error: { code: 'ValidationError', target: 'content' } } });
    const [stored] = (await threadItems(threadId)).filter((i) => i.id === `m|${id}`) as Record<string, unknown>[];
    expect(stored).toMatchObject({ content: 'as sent' });
    expect(stored!.editedOn).toBeUndefined();
  });
});
