import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signRequestHeaders } from '../../shared/auth/hmac-auth.js';
import { createChatUser, type ChatUser } from '../support/chat-users.js';
import { configureSender, finished, sendRaw, simpleMessage } from '../support/email.js';
import { audio, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { registerChannel } from '../support/whatsapp.js';

/**
 * A bounded, seeded fuzz of every route: malformed ids in the path, malformed bodies, query values
 * and headers, sent with valid credentials so they reach the handlers. Each answer must be below
 * 500 and, when it is an error, in the ACS error shape; and none of the requests may change what is
 * stored (every Cosmos item but the operation log, which records the attempts by design, every blob,
 * every event sent). Dot segments are the development host's to refuse before routing (fetch would
 * normalise them here): see dev-host-requests.test.ts.
 */

const SEED = 20261202;
const REQUESTS_PER_ROUTE = 75;

let stack: TestStack;
let resource: ResourceView;
let user: ChatUser;
const ids: Record<string, string> = {};

beforeAll(async () => {
  // The timers that write on their own schedule (purge run records, housekeeping) are off: one that
  // fell due while the fuzz ran would change the store between the snapshots (a recording purge at
  // hh:30:00 did, in a CI run). E-mail delivery and outbox republishing stay: they act only on work the
  // set-up leaves, which is finished before the first snapshot.
  const never = '0 0 0 1 1 *';
  stack = await startTestStack({
    env: {
      RETENTION_PURGE_SCHEDULE: never,
      RECORDING_PURGE_SCHEDULE: never,
      PRIVACY_WORKER_SCHEDULE: never,
      SMS_HOUSEKEEPING_SCHEDULE: never,
      WHATSAPP_HOUSEKEEPING_SCHEDULE: never,
    },
  });
  resource = await stack.createResource('fuzz-eu', 'Europe');
  user = await createChatUser(stack, resource);
  const other = await createChatUser(stack, resource);
  ids.identity = other.id;
  ids.thread = (await user.chat.createChatThread({ topic: 'Fuzz' }, { participants: [{ id: { communicationUserId: other.id } }] })).chatThread!.id;
  ids.message = (await user.thread(ids.thread).sendMessage({ content: 'kept' })).id;
  ids.recording = (await uploadRecording(stack, resource, { content: audio(2000) })).body.id as string;
  ids.hold = (await stack.management('POST', `/api/management/resources/${resource.name}/legalHolds`, { target: { kind: 'thread', threadId: ids.thread }, reason: 'fuzz' })).body.id as string;
  const sender = await configureSender(stack, resource, { domain: 'fuzz.example', username: 'DoNotReply' });
  ids.emailOperation = (await sendRaw(stack, resource, simpleMessage(sender, ['fuzz@fabrikam.example']))).body.id as string;
  // Delivered before the first snapshot: nothing changes on its own while the fuzz runs.
  await finished(stack, resource, ids.emailOperation);
  ids.channel = (await registerChannel(stack, resource)).id;
});
afterAll(async () => stack?.stop());

/** mulberry32: a small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Auth = 'hmac' | 'user' | 'management' | 'none';
interface Route {
  auth: Auth;
  path: string;
  /** Methods that change something, and whether each parses a JSON body (only those get body defects). */
  writes: Partial<Record<'POST' | 'PUT' | 'PATCH' | 'DELETE', { json: boolean; wrong?: string[] }>>;
  reads: ('GET' | 'HEAD')[];
  /** Query parameters a read takes. */
  query?: string[];
  /** Routes whose writes fail without the api-version query parameter. */
  acs?: boolean;
}

const ROUTES: Route[] = [
  { auth: 'hmac', path: '/identities', writes: { POST: { json: true, wrong: ['{"createTokenWithScopes": ["nope"]}', '{"createTokenWithScopes": "chat"}', '{"expiresInMinutes": 59, "createTokenWithScopes": ["chat"]}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/identities/{identity}', writes: { DELETE: { json: false } }, reads: [], acs: true },
  { auth: 'hmac', path: '/identities/{identity}/:issueAccessToken', writes: { POST: { json: true, wrong: ['{"scopes": "chat"}', '{"scopes": ["chat"], "expiresInMinutes": 1441}', '{}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/identities/{identity}/:revokeAccessTokens', writes: { POST: { json: false } }, reads: [], acs: true },
  { auth: 'hmac', path: '/events/:sendTest', writes: { POST: { json: true, wrong: ['{"count": 0}', '{"count": 101}', '{"label": 5}'] } }, reads: [] },
  { auth: 'hmac', path: '/recordings', writes: { POST: { json: false } }, reads: ['GET'], query: ['maxPageSize', 'skipToken'] },
  { auth: 'hmac', path: '/recordings/{recording}', writes: { DELETE: { json: false } }, reads: ['GET'] },
  { auth: 'hmac', path: '/recordings/{recording}/metadata', writes: {}, reads: ['GET'] },
  { auth: 'hmac', path: '/recordings/{recording}/content', writes: {}, reads: ['GET', 'HEAD'] },
  { auth: 'hmac', path: '/privacy/requests', writes: { POST: { json: true, wrong: ['{"action": "explode", "subjects": {"identityIds": []}}', '{"action": "delete", "subjects": {}}', '{"action": "export", "subjects": {"identityIds": ["8:acs:a/b_c"]}}'] } }, reads: ['GET'], query: ['maxPageSize', 'skipToken', 'status'] },
  { auth: 'hmac', path: '/privacy/requests/{request}', writes: {}, reads: ['GET'] },
  { auth: 'hmac', path: '/privacy/requests/{request}/result', writes: {}, reads: ['GET'] },
  { auth: 'hmac', path: '/privacy/receipts', writes: {}, reads: ['GET'], query: ['maxPageSize', 'skipToken', 'subject'] },
  { auth: 'hmac', path: '/privacy/receipts/{receipt}', writes: {}, reads: ['GET'] },
  { auth: 'user', path: '/chat/threads', writes: { POST: { json: true, wrong: ['{"topic": 5}', '{"topic": ""}', '{"topic": "t", "participants": [{"communicationIdentifier": {"rawId": "8:acs:x/y_z"}}]}'] } }, reads: ['GET'], query: ['maxPageSize', 'startTime', 'syncState'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}', writes: { PATCH: { json: true, wrong: ['{"topic": 5}', '{"retentionPolicy": {"kind": "forever"}}'] }, DELETE: { json: false } }, reads: ['GET'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/messages', writes: { POST: { json: true, wrong: ['{"content": 5}', '{"content": "x", "type": "participantAdded"}', '{}'] } }, reads: ['GET'], query: ['maxPageSize', 'startTime', 'syncState'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/messages/{message}', writes: { PATCH: { json: true, wrong: ['{}', '{"content": 5}'] }, DELETE: { json: false } }, reads: ['GET'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/participants', writes: {}, reads: ['GET'], query: ['maxPageSize', 'skip'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/participants/:add', writes: { POST: { json: true, wrong: ['{"participants": "x"}', '{"participants": []}', '{"participants": [{"communicationIdentifier": {"rawId": "8:acs:a#b_c"}}]}'] } }, reads: [], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/participants/:remove', writes: { POST: { json: true, wrong: ['{"communicationUser": {"id": 5}}', '{"rawId": "8:acs:a\\\\b_c"}'] } }, reads: [], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/readReceipts', writes: { POST: { json: true, wrong: ['{"chatMessageId": 5}', '{}'] } }, reads: ['GET'], query: ['maxPageSize', 'skip'], acs: true },
  { auth: 'user', path: '/chat/threads/{thread}/typing', writes: { POST: { json: true, wrong: ['{"senderDisplayName": 5}'] } }, reads: [], acs: true },
  { auth: 'management', path: '/api/management/resources', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}', writes: { PUT: { json: true, wrong: ['{"geography": "Mars"}', '{"geography": "Europe", "retention": {"recordingHours": 49}}', '{"geography": "Japan"}'] }, DELETE: { json: false } }, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/regenerateKey', writes: { POST: { json: true, wrong: ['{"key": "tertiary"}', '{}'] } }, reads: [] },
  { auth: 'management', path: '/api/management/resources/{name}/legalHolds', writes: { POST: { json: true, wrong: ['{"target": 1, "reason": "x"}', '{"target": {"kind": "identity", "identityId": "8:acs:a/b_c"}, "reason": "x"}'] } }, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/legalHolds/{hold}/release', writes: { POST: { json: true, wrong: ['{"reason": 5}'] } }, reads: [] },
  { auth: 'management', path: '/api/management/resources/{name}/retention/preview', writes: {}, reads: ['GET'] },
  { auth: 'hmac', path: '/sms', writes: { POST: { json: true, wrong: ['{"from": "+18005550000", "smsRecipients": [], "message": "x"}', '{"from": 5}', '{"from": "+18005550000", "smsRecipients": [{"to": "+1425"}], "message": 5}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/phoneNumbers', writes: {}, reads: ['GET'], query: ['skip', 'top'], acs: true },
  { auth: 'hmac', path: '/phoneNumbers/{number}', writes: { DELETE: { json: false } }, reads: ['GET'], acs: true },
  { auth: 'hmac', path: '/phoneNumbers/{number}/capabilities', writes: { PATCH: { json: true, wrong: ['{}', '{"sms": "both"}', '{"calling": 5}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/phoneNumbers/operations/{operation}', writes: {}, reads: ['GET'], acs: true },
  { auth: 'hmac', path: '/availablePhoneNumbers/countries/{country}/:search', writes: { POST: { json: true, wrong: ['{"phoneNumberType": "landline"}', '{"phoneNumberType": "tollFree", "assignmentType": "application", "capabilities": {"calling": "none", "sms": "x"}}', '{"phoneNumberType": "tollFree", "assignmentType": "application", "capabilities": {"calling": "none", "sms": "outbound"}, "quantity": 0}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/availablePhoneNumbers/countries/{country}/offerings', writes: {}, reads: ['GET'], query: ['phoneNumberType', 'assignmentType'], acs: true },
  { auth: 'hmac', path: '/availablePhoneNumbers/:purchase', writes: { POST: { json: true, wrong: ['{}', '{"searchId": 5}'] } }, reads: [], acs: true },
  { auth: 'management', path: '/api/management/numberPools/{geography}/numbers', writes: { POST: { json: true, wrong: ['{"numbers": []}', '{"numbers": [{"phoneNumber": "123"}]}'] } }, reads: ['GET'], query: ['status'] },
  { auth: 'hmac', path: '/messages/notifications:send', writes: { POST: { json: true, wrong: ['{"channelRegistrationId": "0f0eb78e-a576-1dfc-b414-0f0756de3338", "to": [], "kind": "text", "content": "x"}', '{"channelRegistrationId": "x", "to": ["14255550123"], "kind": "reaction"}', '{"channelRegistrationId": "0f0eb78e-a576-1dfc-b414-0f0756de3338", "to": ["bob"], "kind": "image", "mediaUri": "file:///etc/passwd"}'] } }, reads: [], acs: true },
  { auth: 'hmac', path: '/messages/streams/{media}', writes: {}, reads: ['GET'], acs: true },
  { auth: 'hmac', path: '/messages/channels/{channel}/templates', writes: {}, reads: ['GET'], query: ['maxpagesize', 'skipToken'], acs: true },
  { auth: 'management', path: '/api/management/resources/{name}/channels', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/channels/{channel}', writes: { PUT: { json: true, wrong: ['{"phoneNumberId": "1", "businessAccountId": "2", "accessTokenSetting": "EAAtoken", "appSecretSetting": "WHATSAPP_X", "webhookVerifyToken": "12345678"}', '{"kind": "sms"}'] }, DELETE: { json: false } }, reads: ['GET'] },
  // WhatsApp's webhook: anonymous, authenticated by its signature (none here: every POST is refused).
  { auth: 'none', path: '/api/whatsapp/webhooks/{name}/{channel}', writes: { POST: { json: true, wrong: ['{"object": "whatsapp_business_account", "entry": []}'] } }, reads: ['GET'], query: ['hub.mode', 'hub.verify_token', 'hub.challenge'] },
  // The management API the privacy console works through.
  { auth: 'management', path: '/api/management/session', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/geographies', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/purgeRuns', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/privacy/requests', writes: { POST: { json: true, wrong: ['{"action": "explode", "subjects": {"identityIds": []}}', '{"action": "delete", "subjects": {}}', '{"action": "export", "subjects": {"identityIds": ["8:acs:a/b_c"]}}'] } }, reads: ['GET'], query: ['maxPageSize', 'skipToken'] },
  { auth: 'management', path: '/api/management/resources/{name}/privacy/requests/{request}', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/privacy/requests/{request}/result', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/privacy/receipts', writes: {}, reads: ['GET'], query: ['maxPageSize', 'skipToken', 'subject'] },
  { auth: 'management', path: '/api/management/resources/{name}/privacy/receipts/{receipt}', writes: {}, reads: ['GET'] },
];

/** Ids no route may take: separators, control characters, over-long values. Encoded as a client would send them. */
const BAD_IDS = ['a/b', 'a\\b', 'a#b', 'a?b', 'x\u0001y', 'x\u0000', 'x\u007f', 'x'.repeat(8000), '\t', '8:acs:x/../y', '19:a/b@thread.v2'];

/** Bodies no JSON route takes. */
const BAD_BODIES = ['not json', '{"a":', '[1,2]', '"text"', '123', 'true', `${'['.repeat(50_000)}${']'.repeat(50_000)}`, '\u0000', '{"a": 1}{"b": 2}'];

const BAD_QUERY_VALUES = ['-1', '0', 'abc', '1e309', '99999999999999999999', '', ' ', '%', '\u0000', 'x'.repeat(5000), '2026-13-45T99:99:99Z', '9999-12-31T23:59:59-23:59', 'NaN', '[]'];

const BAD_HEADERS: Record<string, string>[] = [
  { range: 'bytes=abc' },
  { range: 'bytes=5-1' },
  { range: 'bytes=99999999999999999999-' },
  { 'if-range': '"nope"', range: 'bytes=0-1' },
  { accept: 'text/x-nonsense' },
  { 'content-type': 'application/json; charset=ebcdic' },
];

interface Sent {
  label: string;
  status: number;
  text: string;
}

/** E-mail: the send and status API, and the domains and sender usernames management API. */
const EMAIL_ROUTES: Route[] = [
  {
    auth: 'hmac',
    path: '/emails:send',
    writes: {
      POST: {
        json: true,
        wrong: [
          '{"senderAddress": 5}',
          '{"senderAddress": "DoNotReply@fuzz.example", "content": {"subject": "s", "plainText": "p"}, "recipients": {"to": []}}',
          '{"senderAddress": "DoNotReply@fuzz.example", "content": {"subject": "s", "plainText": "p"}, "recipients": {"to": [{"address": "x"}]}}',
          '{"senderAddress": "DoNotReply@fuzz.example", "content": {"subject": "s", "plainText": "p"}, "recipients": {"to": [{"address": "a@b.example"}]}, "headers": {"Bcc": "c@d.example"}}',
          '{"senderAddress": "Someone@fuzz.example", "content": {"subject": "s", "plainText": "p"}, "recipients": {"to": [{"address": "a@b.example"}]}}',
        ],
      },
    },
    reads: [],
    acs: true,
  },
  { auth: 'hmac', path: '/emails/operations/{emailOperation}', writes: {}, reads: ['GET'], acs: true },
  { auth: 'management', path: '/api/management/resources/{name}/emailDomains', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/emailDomains/{domain}', writes: { PUT: { json: true, wrong: ['{"verificationStates": {"SPF": "Maybe"}}', '{"verificationStates": {"MX": "Verified"}}', '{"other": 1}'] }, DELETE: { json: false } }, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/emailDomains/{domain}/senderUsernames', writes: {}, reads: ['GET'] },
  { auth: 'management', path: '/api/management/resources/{name}/emailDomains/{domain}/senderUsernames/{username}', writes: { PUT: { json: true, wrong: ['{"displayName": 5}', '{"displayName": "x", "other": 1}'] }, DELETE: { json: false } }, reads: ['GET'] },
];
const emailIds = (): Record<string, string> => ({ emailOperation: ids.emailOperation!, domain: 'fuzz.example', username: 'DoNotReply' });

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

const defaultIds = (): Record<string, string> => ({
  identity: ids.identity!,
  recording: ids.recording!,
  request: '00000000-0000-0000-0000-000000000000',
  receipt: '00000000-0000-0000-0000-000000000000',
  thread: ids.thread!,
  message: ids.message!,
  name: resource.name,
  hold: ids.hold!,
  number: '+18005550000',
  operation: 'release_00000000-0000-0000-0000-000000000000',
  country: 'US',
  geography: 'Europe',
  media: '1234567890',
  channel: ids.channel!,
});

function fill(path: string, values: Record<string, string>): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(values[name]!));
}

async function send(route: Route, method: string, path: string, options: SendOptions): Promise<Sent> {
  const url = new URL(path, stack.httpUrl);
  if (route.auth !== 'management') url.searchParams.set('resource', resource.name);
  if (route.acs && !options.noApiVersion) url.searchParams.set('api-version', route.auth === 'user' ? '2025-03-15' : '2023-10-01');
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}) };
  if (route.auth === 'hmac') Object.assign(headers, signRequestHeaders({ method, url: url.toString(), body: options.body ?? '', key: resource.primaryKey }));
  if (route.auth === 'user') headers.authorization = `Bearer ${user.token}`;
  if (route.auth === 'management') headers.authorization = `Bearer ${stack.env.MANAGEMENT_KEY!}`;
  Object.assign(headers, options.headers);
  const response = await fetch(url, { method, headers, body: options.body });
  return { label: `${method} ${url.pathname.slice(0, 120)}${url.search.slice(0, 80)}`, status: response.status, text: await response.text() };
}

type SendOptions = { query?: Record<string, string>; body?: string; headers?: Record<string, string>; noApiVersion?: boolean };

/** One generated request: what identifies it (route, method, path and options) and how to send it. */
interface Planned {
  key: string;
  send: () => Promise<Sent>;
}

const planned = (route: Route, method: string, path: string, options: SendOptions): Planned => ({
  key: JSON.stringify([route.auth, route.path, method, path, options]),
  send: () => send(route, method, path, options),
});

/**
 * The distinct requests among those drawn, in the order first drawn. Draws from the small sets of bad
 * values repeat whole requests (4 350 drawn, 1 953 distinct with this seed); an identical request
 * sent again proves nothing the first did not, and the snapshot after the fuzz shows that none
 * changed anything.
 */
function distinct(requests: Planned[]): Planned[] {
  const seen = new Set<string>();
  return requests.filter((r) => !seen.has(r.key) && seen.add(r.key));
}

/** The requests for one route, generated from the seed: every one of them must be refused or be a read. */
function plan(route: Route, rand: () => number): Planned[] {
  const params = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
  const writes = Object.entries(route.writes) as ['POST' | 'PUT' | 'PATCH' | 'DELETE', { json: boolean; wrong?: string[] }][];
  const requests: Planned[] = [];
  for (let i = 0; i < REQUESTS_PER_ROUTE; i += 1) {
    const kinds = [
      ...(params.length > 0 ? ['id'] : []),
      ...(writes.some(([, w]) => w.json) ? ['body'] : []),
      ...(route.acs && writes.length > 0 ? ['apiVersion'] : []),
      ...(route.reads.length > 0 ? ['query', 'header'] : []),
    ];
    if (kinds.length === 0) continue;
    const kind = pick(rand, kinds);
    const values = { ...defaultIds(), ...emailIds() };
    if (kind === 'id') {
      values[pick(rand, params)] = pick(rand, BAD_IDS);
      const method = pick(rand, [...writes.map(([m]) => m), ...route.reads]);
      const body = writes.find(([m]) => m === method)?.[1].json ? '{}' : undefined;
      requests.push(planned(route, method, fill(route.path, values), { body }));
    } else if (kind === 'body') {
      const [method, w] = pick(rand, writes.filter(([, w]) => w.json));
      const body = pick(rand, [...BAD_BODIES, ...(w.wrong ?? []), ...(w.wrong ?? [])]);
      requests.push(planned(route, method, fill(route.path, values), { body }));
    } else if (kind === 'apiVersion') {
      const [method, w] = pick(rand, writes);
      requests.push(planned(route, method, fill(route.path, values), { body: w.json ? '{}' : undefined, noApiVersion: true }));
    } else if (kind === 'query') {
      const names = [...(route.query ?? []), 'api-version', 'resource'];
      const query = Object.fromEntries(Array.from({ length: 1 + Math.floor(rand() * 2) }, () => [pick(rand, names), pick(rand, BAD_QUERY_VALUES)]));
      requests.push(planned(route, pick(rand, route.reads), fill(route.path, values), { query }));
    } else {
      requests.push(planned(route, pick(rand, route.reads), fill(route.path, values), { headers: pick(rand, BAD_HEADERS) }));
    }
  }
  return requests;
}

/** Everything stored in the geography and the control plane (but the operation log), every blob, every event. */
async function snapshot(): Promise<string[]> {
  const cosmos = new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
  const lines: string[] = [];
  const { resources: databases } = await cosmos.databases.readAll().fetchAll();
  for (const { id: db } of databases) {
    const { resources: containers } = await cosmos.database(db).containers.readAll().fetchAll();
    for (const { id: container } of containers) {
      if (container === 'operationLogs') continue;
      const { resources } = await cosmos.database(db).container(container).items.query('SELECT * FROM c').fetchAll();
      for (const item of resources) lines.push(`${db}/${container}: ${JSON.stringify(item)}`);
    }
  }
  const blobs = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString);
  for await (const container of blobs.listContainers()) {
    for await (const blob of blobs.getContainerClient(container.name).listBlobsFlat({ includeUncommitedBlobs: true } as never)) lines.push(`blob ${container.name}/${blob.name} ${blob.properties.etag}`);
  }
  lines.push(`events ${stack.topic!.received().length}`);
  return lines.sort();
}

async function inBatches<T>(work: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < work.length; i += width) results.push(...(await Promise.all(work.slice(i, i + width).map((w) => w()))));
  return results;
}

describe('every route, malformed ids, bodies, query values and headers', () => {
  it(`answers no 5xx, errors in the ACS shape, and changes nothing (seed ${SEED})`, async () => {
    // Let the set-up's events and outbox settle before the first snapshot.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = await snapshot();
    const rand = random(SEED);
    const drawn = [...ROUTES, ...EMAIL_ROUTES].flatMap((route) => plan(route, rand));
    const requests = distinct(drawn);
    expect([drawn.length, requests.length]).toEqual([4350, 1953]);
    const answers = await inBatches(requests.map((r) => r.send), 8);

    const serverErrors = answers.filter((a) => a.status >= 500).map((a) => `${a.status} ${a.label} ${a.text.slice(0, 200)}`);
    expect(serverErrors).toEqual([]);
    const notAcsShaped = answers
      .filter((a) => a.status >= 400 && !a.label.startsWith('HEAD'))
      .filter((a) => {
        try {
          const body = JSON.parse(a.text) as { error?: { code?: unknown; message?: unknown } };
          return typeof body.error?.code !== 'string' || typeof body.error.message !== 'string';
        } catch {
          return true;
        }
      })
      .map((a) => `${a.status} ${a.label} ${a.text.slice(0, 120)}`);
    expect(notAcsShaped).toEqual([]);
    const accepted = answers.filter((a) => a.status < 400 && !/^(GET|HEAD) /.test(a.label)).map((a) => `${a.status} ${a.label}`);
    expect(accepted).toEqual([]);
    expect(await snapshot()).toEqual(before);
  }, 180_000); // about 1 950 requests: well under a minute alone, more on a loaded machine
});

describe('ids with separators, control characters or past their length', () => {
  it.each(['a/b', 'a\\b', 'a#b', 'x\u0001y', 'x'.repeat(8000)])('%#: a 400 naming the parameter on identity, chat and legal-hold routes', async (bad) => {
    const byRoute: [Route, string, string, string | undefined][] = [
      [ROUTES[1]!, 'DELETE', `/identities/${encodeURIComponent(bad)}`, undefined],
      [ROUTES[2]!, 'POST', `/identities/${encodeURIComponent(bad)}/:issueAccessToken`, '{"scopes": ["chat"]}'],
      [ROUTES[17]!, 'DELETE', `/chat/threads/${encodeURIComponent(ids.thread!)}/messages/${encodeURIComponent(bad)}`, undefined],
      [ROUTES[15]!, 'GET', `/chat/threads/${encodeURIComponent(bad)}`, undefined],
      [ROUTES[27]!, 'POST', `/api/management/resources/${resource.name}/legalHolds/${encodeURIComponent(bad)}/release`, '{}'],
    ];
    const targets = ['id', 'id', 'chatMessageId', 'chatThreadId', 'holdId'];
    for (const [i, [route, method, path, body]] of byRoute.entries()) {
      const answer = await send(route, method, path, { body });
      expect(answer.status, `${method} ${route.path}`).toBe(400);
      // An encoded separator is the host's to refuse before routing (BadRequest naming the path); anything else the route's.
      const expected = /[/\\]/.test(bad) ? { code: 'BadRequest' } : { code: 'ValidationError', target: targets[i] };
      expect(JSON.parse(answer.text), `${method} ${route.path}`).toMatchObject({ error: expected });
    }
  });
});
