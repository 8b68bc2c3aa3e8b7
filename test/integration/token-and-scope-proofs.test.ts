import { CosmosClient } from '@azure/cosmos';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { TokenKeyRing, type SigningKey } from '../../shared/identity/token-key-ring.js';
import type { Resource } from '../../shared/resources/resource.js';
import { createServices, type Services } from '../../shared/services.js';
import { chatRequest, identityClient } from '../support/chat-users.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { writeMarks } from '../support/outbox-marks.js';
import { ACCESS_TOKEN_CLOCK_SKEW_SECONDS } from '../../shared/identity/access-tokens.js';

/**
 * Proofs of the access-token promises at their exact boundaries: a retired signing key verifies
 * until the last token it could have signed has expired (and is dropped from the key ring after),
 * the key ring rotates by age, a cached revocation lookup expires when it should, and the chat
 * token scopes allow exactly what the README says (a refused call changes nothing stored).
 */

const RESOURCE = 'proofs-eu';
const DAY_MS = 86_400_000;
const MAX_TOKEN_LIFETIME_MS = 1440 * 60_000;
/** The revocation lookup cache of every instance in this file (real time, `Date.now()`). */
const REVOCATION_CACHE_MS = 400;

let stack: TestStack;
let resource: ResourceView;
/** Another instance of the app (its own caches), on the same stores and clock. */
let other: Services;
let otherResource: Resource;
/** One identity SDK client for the file (one HTTPS connection pool). */
let identities: ReturnType<typeof identityClient>;
const wholeSecond = (ms: number) => Math.ceil(ms / 1000) * 1000;
const clock = new ManualClock(new Date(wholeSecond(Date.now())));

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    env: { RATE_LIMIT_IDENTITY_CREATE: '1000000', RATE_LIMIT_IDENTITY_DELETE: '1000000', TOKEN_REVOCATION_CACHE_MS: String(REVOCATION_CACHE_MS) },
  });
  resource = await stack.createResource(RESOURCE, 'Europe');
  other = createServices(parseSettings(stack.env), { clock });
  otherResource = (await other.resources.resolveActive(RESOURCE))!;
  identities = identityClient(stack, resource);
});
afterAll(async () => {
  other?.dispose();
  await stack?.stop();
});

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const geoContainer = (name: string) => cosmos().database('acs-europe').container(name);
async function query<T>(container: string, sql: string, parameters: { name: string; value: unknown }[] = []): Promise<T[]> {
  return (await geoContainer(container).items.query<T>({ query: sql, parameters: parameters as never }).fetchAll()).resources;
}

/** A chat call over plain HTTP with a bearer token: status and parsed body. */
const chatCall = (token: string, method: string, path: string, body?: unknown) => chatRequest(stack, RESOURCE, token, method, path, body);

/** Whether the app accepts the token right now (one authenticated read: the caller's thread list). */
const acceptStatus = async (token: string) => (await chatCall(token, 'GET', '/chat/threads')).status;

/** Identity API over HMAC with the manual clock's time (the SDK signs with the real time, which the host compares with the manual clock). */
async function createIdentityAndToken(expiresInMinutes = 1440): Promise<{ id: string; token: string; expiresOn: string }> {
  const response = await stack.signed({
    method: 'POST',
    endpoint: resource.endpoint,
    path: '/identities?api-version=2023-10-01',
    key: resource.primaryKey,
    body: JSON.stringify({ createTokenWithScopes: ['chat'], expiresInMinutes }),
    date: clock.now(),
  });
  expect(response.status).toBe(201);
  return { id: response.body.identity.id, token: response.body.accessToken.token, expiresOn: response.body.accessToken.expiresOn };
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid!;

async function rotate(): Promise<string> {
  const response = await stack.management('POST', '/api/management/tokenKeys/rotate');
  expect(response.status).toBe(200);
  return response.body.kid as string;
}

/** The key ring document as stored in the control plane. */
async function storedKeys(): Promise<SigningKey[]> {
  const container = await other.control.container('signingKeys');
  const { resource: doc } = await container.item('access-token-keys', 'access-token-keys').read<{ keys: SigningKey[] }>();
  return doc!.keys;
}

describe('chat token scopes: each operation, each scope, exact status, and nothing stored when refused', () => {
  type Scope = 'chat' | 'chat.join' | 'chat.join.limited' | 'voip';
  const READ_AND_SEND: Scope[] = ['chat', 'chat.join', 'chat.join.limited'];
  const JOIN: Scope[] = ['chat', 'chat.join'];
  const FULL: Scope[] = ['chat'];

  interface World {
    actor: string;
    token: string;
    victim: string;
    newcomer: string;
    threadId: string;
    deleteThreadId: string;
    ownMessageId: string;
    ownerMessageId: string;
  }

  const strip = (items: Record<string, unknown>[]) =>
    items.map((item) => Object.fromEntries(Object.entries(item).filter(([k]) => !k.startsWith('_')))).sort((a, b) => String(a.id).localeCompare(String(b.id)));
  const partition = async (threadId: string) => strip(await query('chatThreads', 'SELECT * FROM c WHERE c.threadId = @t', [{ name: '@t', value: threadId }]));
  const item = async <T>(threadId: string, id: string) => (await partition(threadId)).find((i) => i.id === id) as T | undefined;

  /** Everything a chat operation of the actor could change: both threads' partitions and the memberships of the three people. */
  async function snapshot(w: World) {
    // The sends' outbox entries whose deletion waits (within OUTBOX_MARK_DELAY_MS) go first: their going is not the refused call's doing.
    await writeMarks();
    const people = [w.actor, w.victim, w.newcomer];
    const [thread, deleteThread, memberships] = await Promise.all([
      partition(w.threadId),
      partition(w.deleteThreadId),
      query<Record<string, unknown>>('chatMemberships', 'SELECT * FROM c WHERE ARRAY_CONTAINS(@p, c.identityId)', [{ name: '@p', value: people }]),
    ]);
    return { thread, deleteThread, memberships: strip(memberships) };
  }

  let owner: { id: string; token: string };

  beforeAll(async () => {
    const { user, token } = await identities.createUserAndToken(['chat']);
    owner = { id: user.communicationUserId, token };
  });

  /** A thread of the owner with the actor and a victim in it, one message of each, and a second thread (to delete). */
  async function world(scope: Scope): Promise<World> {
    const [actorUser, victimUser, newcomerUser] = await Promise.all([identities.createUser(), identities.createUser(), identities.createUser()]);
    const actor = actorUser.communicationUserId;
    const [{ token }, { token: helper }] = await Promise.all([identities.getToken(actorUser, [scope]), identities.getToken(actorUser, ['chat'])]);
    const participant = (id: string) => ({ communicationIdentifier: { rawId: id } });
    const created = await chatCall(owner.token, 'POST', '/chat/threads', { topic: 'Scopes', participants: [participant(actor), participant(victimUser.communicationUserId)] });
    const createdForDelete = await chatCall(owner.token, 'POST', '/chat/threads', { topic: 'To delete', participants: [participant(actor)] });
    expect([created.status, createdForDelete.status]).toEqual([201, 201]);
    const threadId = created.body.chatThread.id as string;
    // The actor's own message is sent with a second token of the same identity that has the chat scope.
    const own = await chatCall(helper, 'POST', `/chat/threads/${threadId}/messages`, { content: 'mine' });
    const owners = await chatCall(owner.token, 'POST', `/chat/threads/${threadId}/messages`, { content: 'owner' });
    expect([own.status, owners.status]).toEqual([201, 201]);
    return {
      actor,
      token,
      victim: victimUser.communicationUserId,
      newcomer: newcomerUser.communicationUserId,
      threadId,
      deleteThreadId: createdForDelete.body.chatThread.id,
      ownMessageId: own.body.id,
      ownerMessageId: owners.body.id,
    };
  }

  interface Operation {
    name: string;
    allowed: Scope[];
    status: number;
    /** A read: when allowed, it changes nothing stored (no new snapshot needed). */
    read?: true;
    call(w: World): Promise<{ status: number; body: any }>;
    /** What the store (or answer) shows after an allowed call. */
    check?(w: World, answer: { status: number; body: any }): Promise<void>;
    /** What else must hold after a refused call, beyond the snapshot. */
    refused?(w: World): Promise<void>;
  }

  const threadsCreatedBy = (actor: string) =>
    query<{ threadId: string; topic: string }>('chatThreads', "SELECT * FROM c WHERE c.kind = 'thread' AND c.createdBy = @a", [{ name: '@a', value: actor }]);

  type Participant = { identityId: string; removedOn?: string | null };
  type Thread = { topic: string; metadata?: Record<string, string> | null; retentionPolicy?: unknown; deletedOn?: string | null };
  type Message = { content?: string; deletedOn?: string; senderId?: string };

  const operations: Operation[] = [
    {
      name: 'create a thread',
      allowed: FULL,
      status: 201,
      call: (w) => chatCall(w.token, 'POST', '/chat/threads', { topic: 'Own thread' }),
      check: async (w, answer) => expect((await threadsCreatedBy(w.actor)).map((t) => [t.threadId, t.topic])).toEqual([[answer.body.chatThread.id, 'Own thread']]),
      refused: async (w) => expect(await threadsCreatedBy(w.actor)).toEqual([]),
    },
    {
      name: 'list threads',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', '/chat/threads'),
      check: async (w, answer) => expect(answer.body.value.map((t: { id: string }) => t.id)).toContain(w.threadId),
    },
    {
      name: 'get the thread',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', `/chat/threads/${w.threadId}`),
      check: async (_w, answer) => expect(answer.body.topic).toBe('Scopes'),
    },
    {
      name: 'update the topic',
      allowed: FULL,
      status: 204,
      call: (w) => chatCall(w.token, 'PATCH', `/chat/threads/${w.threadId}`, { topic: 'Renamed' }),
      check: async (w) => expect((await item<Thread>(w.threadId, w.threadId))!.topic).toBe('Renamed'),
    },
    {
      name: 'update the metadata',
      allowed: FULL,
      status: 204,
      call: (w) => chatCall(w.token, 'PATCH', `/chat/threads/${w.threadId}`, { metadata: { k: 'v' } }),
      check: async (w) => expect((await item<Thread>(w.threadId, w.threadId))!.metadata).toEqual({ k: 'v' }),
    },
    {
      name: 'update the retention policy',
      allowed: FULL,
      status: 204,
      call: (w) => chatCall(w.token, 'PATCH', `/chat/threads/${w.threadId}`, { retentionPolicy: { kind: 'threadCreationDate', deleteThreadAfterDays: 40 } }),
      check: async (w) => expect((await item<Thread>(w.threadId, w.threadId))!.retentionPolicy).toEqual({ kind: 'threadCreationDate', deleteThreadAfterDays: 40 }),
    },
    {
      name: 'send a message',
      allowed: READ_AND_SEND,
      status: 201,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/messages`, { content: 'sent with the scope' }),
      check: async (w, answer) => expect(await item<Message>(w.threadId, `m|${answer.body.id}`)).toMatchObject({ content: 'sent with the scope', senderId: w.actor }),
    },
    {
      name: 'list messages',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', `/chat/threads/${w.threadId}/messages`),
      check: async (w, answer) => expect(answer.body.value.map((m: { id: string }) => m.id)).toContain(w.ownMessageId),
    },
    {
      name: 'get a message',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', `/chat/threads/${w.threadId}/messages/${w.ownerMessageId}`),
      check: async (_w, answer) => expect(answer.body.content.message).toBe('owner'),
    },
    {
      name: 'edit its own message',
      allowed: READ_AND_SEND,
      status: 204,
      call: (w) => chatCall(w.token, 'PATCH', `/chat/threads/${w.threadId}/messages/${w.ownMessageId}`, { content: 'edited' }),
      check: async (w) => expect((await item<Message>(w.threadId, `m|${w.ownMessageId}`))!.content).toBe('edited'),
    },
    {
      name: 'delete its own message',
      allowed: READ_AND_SEND,
      status: 204,
      call: (w) => chatCall(w.token, 'DELETE', `/chat/threads/${w.threadId}/messages/${w.ownMessageId}`),
      check: async (w) => {
        const message = (await item<Message>(w.threadId, `m|${w.ownMessageId}`))!;
        expect(message.deletedOn).toBeTruthy();
        expect(message.content).toBeUndefined();
      },
    },
    {
      name: 'list participants',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', `/chat/threads/${w.threadId}/participants`),
      check: async (w, answer) => expect(answer.body.value.map((p: { communicationIdentifier: { rawId: string } }) => p.communicationIdentifier.rawId)).toContain(w.victim),
    },
    {
      name: 'add a participant',
      allowed: JOIN,
      status: 201,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/participants/:add`, { participants: [{ communicationIdentifier: { rawId: w.newcomer } }] }),
      check: async (w) => {
        expect(await item<Participant>(w.threadId, `p|${w.newcomer}`)).toMatchObject({ identityId: w.newcomer });
        expect(await query('chatMemberships', 'SELECT * FROM c WHERE c.identityId = @i', [{ name: '@i', value: w.newcomer }])).toHaveLength(1);
      },
    },
    {
      name: 'remove another participant',
      allowed: JOIN,
      status: 204,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/participants/:remove`, { communicationUser: { id: w.victim } }),
      check: async (w) => expect((await item<Participant>(w.threadId, `p|${w.victim}`))!.removedOn).toBeTruthy(),
    },
    {
      name: 'send a read receipt',
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/readReceipts`, { chatMessageId: w.ownerMessageId }),
      check: async (w) => expect(await item(w.threadId, `r|${w.actor}`)).toMatchObject({ chatMessageId: w.ownerMessageId }),
    },
    {
      name: 'list read receipts',
      read: true,
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'GET', `/chat/threads/${w.threadId}/readReceipts`),
      check: async (w, answer) => expect(answer.body.value.map((r: { chatMessageId: string }) => r.chatMessageId)).toEqual([w.ownerMessageId]),
    },
    {
      name: 'send a typing notification',
      allowed: READ_AND_SEND,
      status: 200,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/typing`, {}),
    },
    {
      name: 'remove itself (leave)',
      allowed: READ_AND_SEND,
      status: 204,
      call: (w) => chatCall(w.token, 'POST', `/chat/threads/${w.threadId}/participants/:remove`, { communicationUser: { id: w.actor } }),
      check: async (w) => expect((await item<Participant>(w.threadId, `p|${w.actor}`))!.removedOn).toBeTruthy(),
    },
    {
      name: 'delete a thread',
      allowed: FULL,
      status: 204,
      call: (w) => chatCall(w.token, 'DELETE', `/chat/threads/${w.deleteThreadId}`),
      check: async (w) => expect(await partition(w.deleteThreadId)).toEqual([]),
    },
  ];

  it.each<Scope>(['chat', 'chat.join', 'chat.join.limited', 'voip'])('a %s token', async (scope) => {
    const w = await world(scope);
    let before = await snapshot(w);
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const operation of operations) {
      const allowed = operation.allowed.includes(scope);
      const answer = await operation.call(w);
      outcomes.push(`${operation.name}: ${answer.status}`);
      expected.push(`${operation.name}: ${allowed ? operation.status : 403}`);
      if (allowed && operation.read) continue;
      const after = await snapshot(w);
      if (allowed && answer.status === operation.status) {
        await operation.check?.(w, answer);
      } else if (!allowed) {
        // Refused for the scope (not for anything else), and nothing stored changed.
        expect(answer.body?.error, `${operation.name} with ${scope}`).toMatchObject({ code: 'Forbidden', message: expect.stringContaining('scopes do not allow') });
        expect(after, `${operation.name} with ${scope} changed the store`).toEqual(before);
        await operation.refused?.(w);
      }
      before = after;
    }
    expect(outcomes).toEqual(expected);
  });
});

describe('the revocation lookup cache (TOKEN_REVOCATION_CACHE_MS, real time)', () => {
  it('a revocation on another instance is not seen until the cache entry expires, and is seen from then on', async () => {
    // `other` is the instance that verifies (in process, so a call's start and end bound its cache
    // decision within a few milliseconds); `revoker` is a second one, on the same stores.
    const revoker = createServices(parseSettings(stack.env), { clock });
    const accepted = async (token: string) =>
      other.identities.verify(otherResource, token).then(
        () => true,
        (error: unknown) => {
          expect(error).toMatchObject({ code: 'Unauthorized' });
          return false;
        },
      );
    type Call = { start: number; end: number; accepted: boolean };
    /** One round with a fresh identity: fill the cache, revoke elsewhere, poll until the entry must have expired. */
    async function round(): Promise<{ s0: number; e0: number; calls: Call[] }> {
      const { user, token } = await identities.createUserAndToken(['chat']);
      // The first lookup fills the verifying instance's cache entry at some instant within [s0, e0].
      const s0 = Date.now();
      expect(await accepted(token)).toBe(true);
      const e0 = Date.now();
      await revoker.identities.revokeTokens(otherResource, user.communicationUserId);
      const calls: Call[] = [];
      for (let i = 0; i < 1000; i += 1) {
        const start = Date.now();
        const ok = await accepted(token);
        calls.push({ start, end: Date.now(), accepted: ok });
        // Stop after the first call made wholly after the entry must have expired.
        if (start - e0 >= REVOCATION_CACHE_MS) break;
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      return { s0, e0, calls };
    }
    try {
      // A call that ended before the entry could have expired was answered from the cache (accepted);
      // one that started after it must have expired is refused; calls in between could go either way.
      // A round in which no call ended early enough (a stalled machine) proves nothing: try again, at most 3 times.
      for (let attempt = 1; ; attempt += 1) {
        const { s0, e0, calls } = await round();
        const cached = calls.filter((c) => c.end - s0 < REVOCATION_CACHE_MS);
        const expired = calls.filter((c) => c.start - e0 >= REVOCATION_CACHE_MS);
        expect(cached.map((c) => c.accepted)).toEqual(cached.map(() => true));
        expect(expired.map((c) => c.accepted)).toEqual([false]);
        // Once refused, refused for good.
        const firstRefusal = calls.findIndex((c) => !c.accepted);
        expect(calls.slice(firstRefusal).map((c) => c.accepted)).toEqual(calls.slice(firstRefusal).map(() => false));
        if (cached.length > 0) break;
        expect(attempt, 'no call landed while the entry was cached in 3 rounds: the machine is too slow for this cache time').toBeLessThan(3);
      }
    } finally {
      revoker.dispose();
    }
  });

  it('the same, to the millisecond (Date faked): a revocation elsewhere is not seen at cache time - 1 ms, and is seen at the cache time', async () => {
    const revoker = createServices(parseSettings(stack.env), { clock });
    const { user, token } = await identities.createUserAndToken(['chat']);
    const verify = () => other.identities.verify(otherResource, token);
    const at = Date.now();
    // Only Date is faked (timers and I/O run as usual), so the cache entry's time is exactly `at`.
    vi.useFakeTimers({ toFake: ['Date'], now: at });
    try {
      await expect(verify()).resolves.toMatchObject({ identityId: user.communicationUserId });
      await revoker.identities.revokeTokens(otherResource, user.communicationUserId);
      vi.setSystemTime(at + REVOCATION_CACHE_MS - 1);
      await expect(verify()).resolves.toMatchObject({ identityId: user.communicationUserId });
      vi.setSystemTime(at + REVOCATION_CACHE_MS);
      await expect(verify()).rejects.toMatchObject({ code: 'Unauthorized' });
      // The refusal is now cached in turn: it stays refused.
      await expect(verify()).rejects.toMatchObject({ code: 'Unauthorized' });
    } finally {
      vi.useRealTimers();
      revoker.dispose();
    }
  });

  it('a revocation on the same instance is seen at once, cache or not', async () => {
    const { user, token } = await identities.createUserAndToken(['chat']);
    expect(await acceptStatus(token)).toBe(200);
    await identities.revokeTokens(user);
    expect(await acceptStatus(token)).toBe(401);
  });
});

describe('signing keys', () => {
  it('a retired key verifies until the last token it could have signed has expired (retiredAt + 1440 min + cache + skew), to the millisecond, and is then dropped from the key ring', async () => {
    // A fresh key ring view without any cache: exactly what the rule says at the clock's time.
    const ring = new TokenKeyRing(other.control, clock, { rotationDays: other.settings.tokenKeyRotationDays, maxTokenLifetimeMs: MAX_TOKEN_LIFETIME_MS, cacheMs: 0 });
    const T0 = wholeSecond(clock.now().getTime() + DAY_MS);
    clock.set(new Date(T0));
    // The longest-lived token, issued just before the rotation (same instant).
    const old = await createIdentityAndToken(1440);
    const oldKid = kidOf(old.token);
    expect(old.expiresOn).toBe(new Date(T0 + MAX_TOKEN_LIFETIME_MS).toISOString());
    const newKid = await rotate();
    expect(newKid).not.toBe(oldKid);
    const R = T0;

    const afterRotation = await storedKeys();
    expect(afterRotation.find((k) => k.kid === oldKid)).toMatchObject({ retiredAt: new Date(R).toISOString() });
    expect(afterRotation.find((k) => k.kid === newKid)).toMatchObject({ createdAt: new Date(R).toISOString() });
    expect(afterRotation.find((k) => k.kid === newKid)!.retiredAt).toBeUndefined();
    expect(afterRotation.filter((k) => !k.retiredAt).map((k) => k.kid)).toEqual([newKid]);

    // The old token still works; a token issued now is signed with the new key and works.
    expect(await acceptStatus(old.token)).toBe(200);
    const fresh = await createIdentityAndToken(60);
    expect(kidOf(fresh.token)).toBe(newKid);
    expect(await acceptStatus(fresh.token)).toBe(200);

    // Until its expiry the old token is accepted.
    clock.set(new Date(R + MAX_TOKEN_LIFETIME_MS - 1));
    expect(await acceptStatus(old.token)).toBe(200);
    // A retired key verifies for the longest token lifetime plus the key ring's cache time (0 for this
    // view) plus the iat clock skew: 1 ms before that it still does.
    const kept = MAX_TOKEN_LIFETIME_MS + ACCESS_TOKEN_CLOCK_SKEW_SECONDS * 1000;
    clock.set(new Date(R + kept - 1));
    expect(await ring.verificationKey(oldKid)).toBeDefined();
    // A rotation now keeps the retired key in the stored ring (it can still verify).
    const secondKid = await rotate();
    expect((await storedKeys()).map((k) => k.kid)).toEqual([oldKid, newKid, secondKid]);

    // At retiredAt + that time exactly: the retired key verifies nothing any more.
    clock.set(new Date(R + kept));
    expect(await ring.verificationKey(oldKid)).toBeUndefined();
    // The key retired 1 ms later still verifies (the rule is per key, to the millisecond).
    expect(await ring.verificationKey(newKid)).toBeDefined();
    // The host's key ring (cached 60 s) keeps retired keys 60 s longer; past that, its next rotation
    // drops the old key from the stored ring and keeps the keys that can still verify.
    const hostKept = kept + 60_000;
    clock.set(new Date(R + hostKept - 1));
    expect((await storedKeys()).map((k) => k.kid)).toContain(oldKid);
    clock.set(new Date(R + hostKept));
    const thirdKid = await rotate();
    const stored = await storedKeys();
    expect(stored.map((k) => k.kid)).toEqual([newKid, secondKid, thirdKid]);
    expect(stored.map((k) => k.retiredAt)).toEqual([new Date(R + kept - 1).toISOString(), new Date(R + hostKept).toISOString(), undefined]);
  });

  it('rotates by itself when the current key is older than TOKEN_KEY_ROTATION_DAYS (30): not at 30 days, at 30 days + 1 ms', async () => {
    expect(other.settings.tokenKeyRotationDays).toBe(30);
    const C = wholeSecond(clock.now().getTime() + 1000);
    clock.set(new Date(C));
    const current = await rotate();
    expect((await storedKeys()).find((k) => k.kid === current)).toMatchObject({ createdAt: new Date(C).toISOString() });

    // Exactly 30 days old: not older than the period, so no rotation.
    clock.set(new Date(C + 30 * DAY_MS));
    const atPeriod = await createIdentityAndToken(60);
    expect(decodeProtectedHeader(atPeriod.token).kid).toBe(current);
    expect((await storedKeys()).filter((k) => !k.retiredAt).map((k) => k.kid)).toEqual([current]);

    // 1 ms later: signing rotates first; the token carries the new key, the old one is retired at that instant.
    clock.set(new Date(C + 30 * DAY_MS + 1));
    const past = await createIdentityAndToken(60);
    const rotated = decodeProtectedHeader(past.token).kid;
    expect(rotated).not.toBe(current);
    const keys = await storedKeys();
    expect(keys.filter((k) => !k.retiredAt).map((k) => k.kid)).toEqual([rotated]);
    expect(keys.find((k) => k.kid === current)).toMatchObject({ retiredAt: new Date(C + 30 * DAY_MS + 1).toISOString() });
    expect(keys.find((k) => k.kid === rotated)).toMatchObject({ createdAt: new Date(C + 30 * DAY_MS + 1).toISOString() });
    // Both tokens verify; signing again does not rotate again.
    expect(await acceptStatus(atPeriod.token)).toBe(200);
    expect(await acceptStatus(past.token)).toBe(200);
    expect(kidOf((await createIdentityAndToken(60)).token)).toBe(rotated);
  });
});
