import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';
import { audio, deliverBlobCreated, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { chatRequest } from '../support/chat-users.js';
import { startKeylessStores, type KeylessStores } from '../support/keyless-stores.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * Keyless access (issue 16, item 1): the app is given its stores' endpoints and no key at all (no
 * COSMOS_KEY, no STORAGE_CONNECTION_STRING but STORAGE_ACCOUNT_URL, no EVENTGRID_TOPIC_KEY), and a
 * Microsoft Entra credential. A resource, two identities, a chat thread with a message, an uploaded
 * recording and one brought in through the landing container (copied by the storage service with
 * the app's token as source authorization), and their events are created through the public APIs;
 * then what each store holds is read, and each emulator's record must show that every request of the
 * app carried a token this credential minted for that store, and none a key.
 */

const MiB = 1024 * 1024;
let stores: KeylessStores;
let stack: TestStack;
let resource: ResourceView;
let threadId: string;
let uploadedId: string;
const landed = { content: audio(2.5 * MiB), name: '' };

beforeAll(async () => {
  stores = await startKeylessStores();
  stack = await startTestStack({
    credential: stores.appCredential,
    trustedCertificates: stores.tls.cert,
    // Blocks of 1 MiB: the 2.5 MiB landing file is copied in three ranges.
    // No timer runs on its schedule: the test counts the queue requests of exactly one purge run, and a
    // run of its own on the hour would enqueue as many again (seen with every schedule at 2 s).
    env: { ...stores.settings, ...SCHEDULED_TIMERS_OFF, RECORDING_COPY_BLOCK_BYTES: String(MiB) },
  });
  resource = await stack.createResource('keyless-eu', 'Europe');
  const [alice, bob] = [await newIdentity(), await newIdentity()];
  const created = await chat(alice.token, 'POST', '/chat/threads', {
    topic: 'keyless',
    participants: [{ communicationIdentifier: { rawId: bob.id, communicationUser: { id: bob.id } } }],
  });
  expect(created.status, created.text).toBe(201);
  threadId = created.body.chatThread.id as string;
  const sent = await chat(alice.token, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/messages`, { content: 'hello without keys' });
  expect(sent.status, sent.text).toBe(201);

  const uploaded = await uploadRecording(stack, resource, { content: audio(3000), metadata: sampleMetadata(resource.id, { callId: 'uploaded-call' }) });
  expect(uploaded.status, uploaded.text).toBe(201);
  uploadedId = uploaded.body.id as string;
  landed.name = `${resource.id}/pipeline/landed.wav`;
  expect((await land(landed.name, landed.content)).status).toBe(202);
});
afterAll(async () => {
  await stack?.stop();
  await stores?.stop();
});

async function newIdentity(): Promise<{ id: string; token: string }> {
  const body = JSON.stringify({ createTokenWithScopes: ['chat'] });
  const response = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/identities?api-version=2023-10-01', key: resource.primaryKey, body });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.identity.id as string, token: response.body.accessToken.token as string };
}

const chat = (token: string, method: string, path: string, body: unknown) => chatRequest(stack, resource.name, token, method, path, body);

/** A media pipeline's file in the landing container (written with the test's own token), and the storage account's BlobCreated event. */
async function land(name: string, content: Buffer): Promise<Response> {
  const container = stores.inspector.blobs.getContainerClient('acs-europe-recording-landing');
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient(name);
  const metadata = sampleMetadata(resource.id, { callId: 'landed-call' });
  const { etag } = await blob.upload(content, content.length, { blobHTTPHeaders: { blobContentType: 'audio/wav' }, metadata: { recording: JSON.stringify(metadata) } });
  const id = createHash('sha256').update(blob.url + etag).digest('hex').slice(0, 32);
  return deliverBlobCreated(stack, { id, subjectPath: `acs-europe-recording-landing/blobs/${name}`, url: blob.url, etag: etag! });
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function items(database: string, container: string): Promise<Record<string, any>[]> {
  const { resources } = await stores.inspector.cosmos.database(database).container(container).items.readAll<Record<string, any>>().fetchAll();
  return resources;
}

describe('keyless access', () => {
  it('the app was given no key: no COSMOS_KEY, no STORAGE_CONNECTION_STRING, no EVENTGRID_TOPIC_KEY, no emulator of its own', () => {
    expect([stack.env.COSMOS_KEY, stack.env.STORAGE_CONNECTION_STRING, stack.env.EVENTGRID_TOPIC_KEY]).toEqual([undefined, undefined, undefined]);
    expect([stack.env.COSMOS_ENDPOINT, stack.env.STORAGE_ACCOUNT_URL, stack.env.EVENTGRID_TOPIC_ENDPOINT]).toEqual([
      stores.cosmos.endpoint,
      stores.blob.accountUrl,
      stores.topic.endpoint,
    ]);
    expect([stack.topic, stack.blobEvents, stack.cosmosRequests]).toEqual([undefined, undefined, undefined]);
  });

  it('Cosmos holds the resource, the two identities, the thread and its message, and both recordings', async () => {
    const registered = (await items('acs-control', 'resources')).filter((r) => r.name === 'keyless-eu');
    expect(registered.map((r) => [r.resourceId, r.geographyKey])).toEqual([[resource.id, 'europe']]);
    expect((await items('acs-europe', 'identities')).filter((i) => i.resourceId === resource.id)).toHaveLength(2);
    const thread = (await items('acs-europe', 'chatThreads')).filter((i) => i.threadId === threadId);
    expect(thread.map((i) => `${i.kind}:${i.type ?? ''}`).sort()).toEqual(['message:participantAdded', 'message:text', 'message:topicUpdated', 'participant:', 'participant:', 'thread:']);
    expect(thread.find((i) => i.type === 'text')?.content).toBe('hello without keys');
    const recordings = (await items('acs-europe', 'recordings')).filter((i) => i.resourceId === resource.id && i.kind === 'recording');
    expect(recordings.map((r) => [r.source, r.contentLength]).sort()).toEqual([
      ['landing', landed.content.length],
      ['upload', 3000],
    ]);
  });

  it('Azurite holds both recordings (the landed one byte for byte, with its expiry tags) and an empty landing container', async () => {
    const recordings = stores.inspector.blobs.getContainerClient('acs-europe-recordings');
    const names: string[] = [];
    for await (const blob of recordings.listBlobsFlat({ prefix: `${resource.id}/` })) names.push(blob.name);
    expect(names).toHaveLength(2);
    expect(names).toContain(`${resource.id}/${uploadedId}`);
    const landedName = names.find((n) => n !== `${resource.id}/${uploadedId}`)!;
    const landedBlob = recordings.getBlockBlobClient(landedName);
    expect(sha(await landedBlob.downloadToBuffer())).toBe(sha(landed.content));
    expect((await landedBlob.getTags()).tags).toMatchObject({ resourceId: resource.id });
    expect((await landedBlob.getProperties()).contentType).toBe('audio/wav');
    const left: string[] = [];
    for await (const blob of stores.inspector.blobs.getContainerClient('acs-europe-recording-landing').listBlobsFlat()) left.push(blob.name);
    expect(left).toEqual([]);
  });

  it('the topic received the resource, chat and recording events, each once', () => {
    const events = stores.topic.received().map((r) => r.event as { type: string; source?: string });
    expect(events.every((e) => e.source === `/resources/${resource.id}`)).toBe(true);
    expect(events.map((e) => e.type).sort()).toEqual([
      'AcsResidency.ResourceCreated',
      'Microsoft.Communication.ChatMessageReceived',
      'Microsoft.Communication.ChatMessageReceivedInThread',
      'Microsoft.Communication.ChatThreadCreated',
      'Microsoft.Communication.ChatThreadCreatedWithUser',
      'Microsoft.Communication.ChatThreadCreatedWithUser',
      'Microsoft.Communication.RecordingFileStatusUpdated',
      'Microsoft.Communication.RecordingFileStatusUpdated',
    ]);
  });
});

describe('the work queues: the Functions host\'s storage, reached with the identity by the app and by the dev host', () => {
  it('a purge is planned and worked off over AzureWebJobsStorage__queueServiceUri; every queue request carried the app credential\'s token', async () => {
    await stack.runFunction('chatRetentionPurge');
    const [run] = (await stack.management('GET', '/api/management/purgeRuns')).body.runs.chatRetention;
    // The resource's operation log item and one finished-requests item per geography, enqueued by the planner and taken by the trigger.
    expect(run).toMatchObject({ status: 'succeeded', planning: 'done', failed: 0 });
    expect(run.planned).toBeGreaterThan(1);
    expect(run.done).toBe(run.planned);
    const requests = stores.queue.requests;
    const minted = stores.appCredential.tokenIds('https://storage.azure.com');
    expect(requests.filter((r) => r.authorization !== 'bearer' || !minted.has(r.token?.tokenId ?? ''))).toEqual([]);
    const on = (method: string, path: RegExp) => requests.filter((r) => r.method === method && path.test(r.path)).length;
    // Put Message (the planner), Get Messages and Delete Message (the queue trigger).
    expect(on('POST', /\/work-chat-retention\/messages$/)).toBe(run.planned);
    expect(on('GET', /\/work-chat-retention\/messages$/)).toBeGreaterThan(0);
    expect(on('DELETE', /\/work-chat-retention\/messages\/[^/]+$/)).toBe(run.planned);
    expect(stack.stores.queueConnectionString).toBe('');
  });
});

describe('what each store saw: tokens of the app credential, never a key', () => {
  const minted = (audience: string) => stores.appCredential.tokenIds(audience);

  it('Cosmos: every request carried a Microsoft Entra token (type=aad), the app\'s for the account endpoint; no master key', () => {
    const audience = stores.cosmos.endpoint.replace(/\/$/, '');
    const seen = stores.cosmos.authorizations();
    expect(seen.filter((a) => a.type !== 'aad')).toEqual([]);
    const app = seen.filter((a) => minted(audience).has(a.token?.tokenId ?? ''));
    const test = seen.filter((a) => stores.inspector.credential.tokenIds(audience).has(a.token?.tokenId ?? ''));
    // Every request is the app's or the test inspector's, and the app made many.
    expect(app.reduce((n, a) => n + a.count, 0) + test.reduce((n, a) => n + a.count, 0)).toBe(seen.reduce((n, a) => n + a.count, 0));
    expect(app.reduce((n, a) => n + a.count, 0)).toBeGreaterThan(20);
    expect(new Set(app.map((a) => a.token?.audience))).toEqual(new Set([audience]));
  });

  it('Azurite: every request carried a bearer token for storage; the landing copy staged 3 blocks from the URL with the app\'s token as source authorization', () => {
    const requests = stores.blob.requests;
    expect(requests.filter((r) => r.authorization !== 'bearer')).toEqual([]);
    expect(requests.filter((r) => r.token?.audience !== 'https://storage.azure.com')).toEqual([]);
    const app = requests.filter((r) => minted('https://storage.azure.com').has(r.token?.tokenId ?? ''));
    const test = requests.filter((r) => stores.inspector.credential.tokenIds('https://storage.azure.com').has(r.token?.tokenId ?? ''));
    expect(app.length + test.length).toBe(requests.length);
    const copies = app.filter((r) => r.method === 'PUT' && r.comp === 'block' && r.copiesFromUrl);
    expect(copies).toHaveLength(3);
    expect(copies.every((r) => r.copySource?.authorization === 'bearer' && minted('https://storage.azure.com').has(r.copySource.token?.tokenId ?? ''))).toBe(true);
    // Azurite's own reads of the landing file, authorized by the token the app passed on.
    expect(app.filter((r) => r.userAgent === 'azurite-stage-block-from-url' && r.path.endsWith(landed.name))).toHaveLength(3);
    // The upload path staged its blocks with the app's token too (no copy source).
    expect(app.filter((r) => r.method === 'PUT' && r.comp === 'block' && !r.copiesFromUrl).length).toBeGreaterThan(0);
  });

  it('Event Grid: every publish request carried the app\'s token for https://eventgrid.azure.net, none the topic key', () => {
    const publishes = stores.topic.publishes();
    expect(publishes.filter((p) => p.authorization.via !== 'bearer')).toEqual([]);
    const tokens = publishes.map((p) => (p.authorization.via === 'bearer' ? p.authorization : undefined));
    expect(tokens.every((t) => t?.audience === 'https://eventgrid.azure.net' && minted('https://eventgrid.azure.net').has(t.tokenId ?? ''))).toBe(true);
    expect(publishes.reduce((n, p) => n + p.events, 0)).toBe(stores.topic.received().length);
  });
});
