import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { LocalEventGridTopic } from '../../local/eventgrid-topic/topic-server.js';
import { startSmtpRelay, type EmbeddedSmtpRelay } from '../../local/smtp-relay/embedded-relay.js';
import { loadOrCreateCertificate } from '../../local/tls-certificate.js';
import { configureSender, sendRaw, simpleMessage, storedEmail, until } from '../support/email.js';
import { ManualClock } from '../../shared/clock.js';
import { SCHEDULED_TIMERS_OFF } from '../../shared/timer-schedules.js';
import { PrivacyClient } from '../support/privacy.js';
import { atLocation, audio, sampleMetadata, uploadRecording } from '../support/recordings.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';
import { inject, registerChannel } from '../support/whatsapp.js';
import { writeMarks } from '../support/outbox-marks.js';

/**
 * Residency for every kind of data, and resource deletion, checked from the outside: Japan has its
 * own Cosmos account, storage account and Event Grid topic (the `__JAPAN` settings), Europe uses the
 * defaults. Each resource gets one of every kind of data through the public APIs; then every database
 * and container of both Cosmos accounts and every blob container of both storage accounts is read in
 * full, and each kind is asserted, with its exact count, in its geography's stores and nowhere else.
 */

const clock = new ManualClock(new Date());
let stack: TestStack;
let japanCosmos: EmbeddedCosmos;
let japanBlob: EmbeddedBlob;
let japanTopic: LocalEventGridTopic;
/** Japan's own SMTP relay (`SMTP_*__JAPAN`); Europe's mail goes through the stack's embedded relay. */
let japanRelay: EmbeddedSmtpRelay;

/** What `populate` created for one resource. */
interface Created {
  resource: ResourceView;
  geography: 'Europe' | 'Japan';
  alice: string;
  bob: string;
  /** Erased by a data subject delete request: nothing of it may remain anywhere. */
  dave: string;
  threadId: string;
  recordings: { kept: string; deleted: string; landed: string };
  rejectedLandingFile: string;
  /** The number it took from its geography's pool. */
  poolNumber: string;
  holdId: string;
  exportId: string;
  deleteId: string;
  /** E-mail: one send that hard-bounced (finished), one still waiting for its retry (content stored). */
  emails: { bounced: string; pending: string };
}

let europe: Created;
let japan: Created;
let doomed: Created;
let survivor: Created;
/** The Advanced Messaging (WhatsApp) resource, in the United Kingdom (Japan and Europe resources above; Japan offers no WhatsApp). */
let whatsApp: { resource: ResourceView; channelId: string; japanRefusal: { status: number; body: Record<string, any> } };
/** Everything stored once populate() is done (the residency checks only read, so it is also the state before the deletion). */
let stored: Scan;

beforeAll(async () => {
  [japanCosmos, japanBlob] = await Promise.all([startEmbeddedCosmos(0), startEmbeddedBlob(0)]);
  japanTopic = new LocalEventGridTopic({ key: randomBytes(32).toString('base64') });
  await japanTopic.start();
  japanRelay = await startSmtpRelay({ tls: await loadOrCreateCertificate(join(tmpdir(), `acs-residency-test-certs-${process.pid}`)), user: 'japan-relay' });
  stack = await startTestStack({
    clock,
    env: {
      COSMOS_ENDPOINT__JAPAN: japanCosmos.endpoint,
      COSMOS_KEY__JAPAN: japanCosmos.key,
      STORAGE_CONNECTION_STRING__JAPAN: japanBlob.connectionString,
      EVENTGRID_TOPIC_ENDPOINT__JAPAN: japanTopic.endpoint,
      EVENTGRID_TOPIC_KEY__JAPAN: japanTopic.key,
      ...japanRelay.settings('__JAPAN'),
      EMAIL_RATE_LIMIT_FACTOR: '0',
      // Every timer and the landing feed run only when the test asks, not on their schedules. A
      // republisher run on its own (every 30 s) could take the half-done change a test leaves for the
      // resource deletion before the deletion counts it (seen once in a full run); a purge run writes
      // its run record between two scans that must be equal, and WhatsApp housekeeping deletes
      // records a deletion is to count (both seen with every schedule at 2 s).
      ...SCHEDULED_TIMERS_OFF,
      LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
    },
    queues: { maxPollingInterval: '00:00:00.200' },
  });
  [europe, japan, doomed, survivor] = await Promise.all([
    populate('every-kind-eu', 'Europe'),
    populate('every-kind-jp', 'Japan'),
    populate('every-kind-jp-doomed', 'Japan'),
    populate('every-kind-jp-survivor', 'Japan'),
  ]);
  await privacyRequestsDone();
  whatsApp = await populateWhatsApp();
  stored = await scan();
});
afterAll(async () => {
  await stack?.stop();
  await japanTopic?.stop();
  japanTopic?.dispose();
  await japanRelay?.stop();
  await japanCosmos?.stop();
  await japanBlob?.stop();
});

// ---------------------------------------------------------------------------------------------
// Creating one of every kind of data through the public APIs

const PHONE = '+14255550123';
let nextPoolNumber = 701;

async function populate(name: string, geography: 'Europe' | 'Japan'): Promise<Created> {
  // Its own area code, so that the resources of one geography, populated at once, each find their own number.
  const areaCode = String(nextPoolNumber++);
  const poolNumber = `+18005550${areaCode}`;
  const resource = await stack.createResource(name, geography);
  const [alice, bob, dave] = await Promise.all([newIdentity(resource), newIdentity(resource), newIdentity(resource)]);

  // A thread with two members, three messages (plus the two system messages of its creation), two read receipts.
  const created = await chat(resource, alice, 'POST', '/chat/threads', {
    topic: `${name} thread`,
    participants: [{ communicationIdentifier: { rawId: bob.id, communicationUser: { id: bob.id } } }],
  });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const threadId = created.body.chatThread.id as string;
  const sent: string[] = [];
  for (const [user, text] of [[alice, 'first'], [bob, 'second'], [alice, 'third']] as const) {
    const message = await chat(resource, user, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/messages`, { content: `${text} in ${name}` });
    expect(message.status).toBe(201);
    sent.push(message.body.id as string);
  }
  for (const [user, read] of [[alice, sent[2]], [bob, sent[1]]] as const) {
    expect((await chat(resource, user, 'POST', `/chat/threads/${encodeURIComponent(threadId)}/readReceipts`, { chatMessageId: read })).status).toBe(200);
  }

  // Recordings: one uploaded with a repeatability id (so with a claim), one uploaded and deleted
  // (an audit record), one brought in from the landing container, and one landing file rejected.
  const participants = [{ communicationUser: { id: alice.id } }, { phoneNumber: { value: PHONE } }];
  const kept = await uploadRecording(stack, resource, {
    metadata: sampleMetadata(resource.id, { participants, callId: 'kept-call' }),
    date: clock.now(),
    headers: { 'repeatability-request-id': randomUUID(), 'repeatability-first-sent': clock.now().toUTCString() },
  });
  expect(kept.status, kept.text).toBe(201);
  const deleted = await uploadRecording(stack, resource, { metadata: sampleMetadata(resource.id, { participants, callId: 'deleted-call' }), date: clock.now() });
  expect(deleted.status, deleted.text).toBe(201);
  expect((await atLocation(stack, resource, 'DELETE', deleted.body.deleteLocation as string, { date: clock.now() })).status).toBe(204);
  await land(geography, `${resource.id}/pipeline/landed.wav`, sampleMetadata(resource.id, { participants, callId: 'landed-call' }));
  const rejectedLandingFile = `${resource.id}/pipeline/rejected.wav`;
  await land(geography, rejectedLandingFile, { callId: 'no participants' });
  // The landed recording's id, from its RecordingFileStatusUpdated event (subject /recording/call/{callId}/recordingId/{id}).
  const landed = [
    ...new Set(
      (geography === 'Japan' ? japanTopic : stack.topic!)
        .received()
        .map((r) => r.event as { source?: string; subject: string })
        .filter((e) => e.source === `/resources/${resource.id}` && e.subject.startsWith('/recording/call/landed-call/recordingId/'))
        .map((e) => e.subject.split('/').pop()!),
    ),
  ];
  expect(landed).toHaveLength(1);

  const hold = await stack.management('POST', `/api/management/resources/${name}/legalHolds`, { target: { kind: 'thread', threadId }, reason: 'case 1' });
  expect(hold.status, hold.text).toBe(201);
  const test = await stack.signed({ method: 'POST', endpoint: resource.endpoint, path: '/events/:sendTest', key: resource.primaryKey, body: '{"count":1}', date: clock.now() });
  expect(test.status, test.text).toBe(202);

  // A phone number from its geography's pool (a search and a purchase), an SMS to PHONE with a
  // delivery report and a repeatability id, and a STOP from PHONE (an opt-out).
  const imported = await stack.management('POST', `/api/management/numberPools/${geography}/numbers`, {
    numbers: [{ phoneNumber: poolNumber, countryCode: 'US', phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' }, areaCode }],
  });
  expect(imported.body.created, imported.text).toEqual([poolNumber]);
  const signed = (path: string, body: unknown) => stack.signed({ method: 'POST', endpoint: resource.endpoint, path, key: resource.primaryKey, body: JSON.stringify(body), date: clock.now() });
  const search = await signed('/availablePhoneNumbers/countries/US/:search?api-version=2025-06-01', { phoneNumberType: 'tollFree', assignmentType: 'application', capabilities: { calling: 'none', sms: 'inbound+outbound' }, areaCode });
  expect(search.body.phoneNumbers, search.text).toEqual([poolNumber]);
  expect((await signed('/availablePhoneNumbers/:purchase?api-version=2025-06-01', { searchId: search.body.searchId })).status).toBe(202);
  const sms = await signed('/sms?api-version=2021-03-07', {
    from: poolNumber,
    smsRecipients: [{ to: PHONE, repeatabilityRequestId: randomUUID(), repeatabilityFirstSent: clock.now().toUTCString() }],
    message: `hello from ${name}`,
    smsSendOptions: { enableDeliveryReport: true },
  });
  expect(sms.body.value[0].successful, sms.text).toBe(true);
  stack.smsc!.server.inject({ from: PHONE, to: poolNumber, text: 'STOP' });
  const topic = geography === 'Japan' ? japanTopic : stack.topic!;
  for (let wait = 0; wait < 400; wait += 1) {
    const types = topic.received().map((r) => r.event as { source?: string; type: string }).filter((e) => e.source === `/resources/${resource.id}`).map((e) => e.type);
    if (types.includes('Microsoft.Communication.SMSDeliveryReportReceived') && types.includes('Microsoft.Communication.SMSReceived')) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  // E-mail: a domain and a sender username; a send that hard-bounces (a suppression entry, its report),
  // and one the relay defers (its content waits in the geography for the retry).
  const relay = geography === 'Japan' ? japanRelay : stack.smtpRelay!;
  const sender = await configureSender(stack, resource, { domain: `${name}.example` });
  relay.fail(`bounce-${name}@fabrikam.example`, { mode: 'permanent' });
  relay.fail(`later-${name}@fabrikam.example`, { mode: 'temporary' });
  const emails = { bounced: '', pending: '' };
  for (const [key, to] of [['bounced', `bounce-${name}@fabrikam.example`], ['pending', `later-${name}@fabrikam.example`]] as const) {
    const accepted = await sendRaw(stack, resource, simpleMessage(sender, [to], `${key} in ${name}`), {}, clock.now());
    expect(accepted.status, accepted.text).toBe(202);
    emails[key] = accepted.body.id as string;
  }
  await until(async () => {
    const ops = (await storedEmail(resource)).operations;
    return ops.length === 2 && ops.every((op) => op.attempts === 1 && op.lease === null);
  });

  // A data subject export (request + result document) and a delete of another identity (receipt),
  // worked on by one worker loop for every resource (see privacyRequestsDone).
  const privacy = new PrivacyClient(() => stack, resource, clock);
  const exported = await privacy.submit('export', { identityIds: [alice.id], phoneNumbers: [PHONE] });
  const erased = await privacy.submit('delete', { identityIds: [dave.id] });
  pendingPrivacyRequests.push({ privacy, ids: [exported.id, erased.id] });
  // The messages' outbox entries, in the thread's partition until their marks are written (within OUTBOX_MARK_DELAY_MS): gone.
  await writeMarks();

  return {
    resource,
    geography,
    alice: alice.id,
    bob: bob.id,
    dave: dave.id,
    threadId,
    recordings: { kept: kept.body.id as string, deleted: deleted.body.id as string, landed: landed[0]! },
    rejectedLandingFile,
    poolNumber,
    holdId: hold.body.id as string,
    exportId: exported.id as string,
    deleteId: erased.id as string,
    emails,
  };
}

interface User {
  id: string;
  token: string;
}

/** A communication identity with a chat token, as `createUserAndToken` makes it (signed with the resource key). */
async function newIdentity(resource: ResourceView): Promise<User> {
  const response = await stack.signed({
    method: 'POST',
    endpoint: resource.endpoint,
    path: '/identities?api-version=2023-10-01',
    key: resource.primaryKey,
    body: JSON.stringify({ createTokenWithScopes: ['chat'] }),
    date: clock.now(),
  });
  expect(response.status, response.text).toBe(201);
  return { id: response.body.identity.id as string, token: response.body.accessToken.token as string };
}

/** A chat API call with the user's token, on the plain-HTTP listener (the SDK compatibility is tested elsewhere). */
async function chat(resource: ResourceView, user: User, method: string, path: string, body: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const url = new URL(path, stack.httpUrl);
  url.searchParams.set('resource', resource.name);
  url.searchParams.set('api-version', '2025-03-15');
  const response = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json', ...(path === '/chat/threads' ? { 'repeatability-request-id': randomUUID() } : {}) },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

const pendingPrivacyRequests: { privacy: PrivacyClient; ids: string[] }[] = [];

/** Runs the privacy worker until every request populate() submitted has succeeded. */
async function privacyRequestsDone(): Promise<void> {
  for (let run = 0; run < 20; run += 1) {
    await pendingPrivacyRequests[0]!.privacy.runWorker();
    const views = await Promise.all(pendingPrivacyRequests.flatMap(({ privacy, ids }) => ids.map(async (id) => (await privacy.status(id)).body as { status: string })));
    if (views.every((v) => v.status === 'succeeded')) return;
    expect(views.filter((v) => v.status === 'failed')).toEqual([]);
  }
  throw new Error('the privacy requests did not finish in 20 worker runs');
}

/** A media pipeline's file in the geography's landing container, and the storage account's BlobCreated event for it. */
async function land(geography: 'Europe' | 'Japan', blobName: string, metadata: unknown): Promise<void> {
  const account = geography === 'Japan' ? japanBlob.connectionString : stack.stores.storageConnectionString;
  const containerName = `acs-${geography.toLowerCase()}-recording-landing`;
  const container = BlobServiceClient.fromConnectionString(account).getContainerClient(containerName);
  await container.createIfNotExists();
  const blob = container.getBlockBlobClient(blobName);
  const content = audio(2048);
  const { etag } = await blob.upload(content, content.length, { blobHTTPHeaders: { blobContentType: 'audio/wav' }, metadata: { recording: JSON.stringify(metadata) } });
  const event = {
    id: createHash('sha256').update(blob.url + etag).digest('hex').slice(0, 32),
    topic: '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.Storage/storageAccounts/devstoreaccount1',
    subject: `/blobServices/default/containers/${containerName}/blobs/${blobName}`,
    eventType: 'Microsoft.Storage.BlobCreated',
    eventTime: new Date().toISOString(),
    data: { api: 'PutBlob', eTag: etag, contentType: 'audio/wav', blobType: 'BlockBlob', url: blob.url },
    dataVersion: '',
    metadataVersion: '1',
  };
  const delivered = await fetch(`${stack.httpUrl}/runtime/webhooks/eventgrid?functionName=recordingLanding`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'aeg-event-type': 'Notification' },
    body: JSON.stringify([event]),
  });
  expect(delivered.status).toBe(202);
}

// ---------------------------------------------------------------------------------------------
// Reading everything that is stored, in every account

interface StoredItem {
  /** `{account}:{database}/{container}` */
  where: string;
  item: Record<string, any>;
  text: string;
}
interface StoredBlob {
  /** `{account}:{container}` */
  where: string;
  name: string;
  /** Name, metadata, index tags and content. */
  text: string;
}
interface Scan {
  items: StoredItem[];
  blobs: StoredBlob[];
}

function accounts() {
  const cosmos = (endpoint: string, key: string) => new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });
  return [
    { name: 'default', cosmos: cosmos(stack.stores.cosmosEndpoint, stack.stores.cosmosKey), blobs: BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString) },
    { name: 'japan', cosmos: cosmos(japanCosmos.endpoint, japanCosmos.key), blobs: BlobServiceClient.fromConnectionString(japanBlob.connectionString) },
  ];
}

/** Every item of every container of every database, and every blob of every container, of both accounts. */
async function scan(): Promise<Scan> {
  const result: Scan = { items: [], blobs: [] };
  for (const account of accounts()) {
    const { resources: databases } = await account.cosmos.databases.readAll().fetchAll();
    for (const { id: databaseId } of databases) {
      const database = account.cosmos.database(databaseId);
      const { resources: containers } = await database.containers.readAll().fetchAll();
      for (const { id: containerId } of containers) {
        const { resources } = await database.container(containerId).items.readAll<Record<string, any>>().fetchAll();
        for (const item of resources) result.items.push({ where: `${account.name}:${databaseId}/${containerId}`, item, text: JSON.stringify(item) });
      }
    }
    for await (const container of account.blobs.listContainers()) {
      const client = account.blobs.getContainerClient(container.name);
      for await (const blob of client.listBlobsFlat({ includeMetadata: true, includeUncommitedBlobs: true })) {
        const blobClient = client.getBlobClient(blob.name);
        const [tags, content] = await Promise.all([
          blobClient.getTags().then((t) => t.tags, () => ({})),
          blobClient.downloadToBuffer().catch(() => Buffer.alloc(0)),
        ]);
        result.blobs.push({
          where: `${account.name}:${container.name}`,
          name: blob.name,
          text: [blob.name, JSON.stringify(blob.metadata ?? {}), JSON.stringify(tags), content.toString('latin1')].join('\n'),
        });
      }
    }
  }
  return result;
}

/** Every id that names the resource or something of it (message ids are times, not unique across threads: their items carry the thread id). */
const idsOf = (c: Created) => [c.resource.id, c.threadId, c.alice, c.bob, c.dave, c.recordings.kept, c.recordings.deleted, c.recordings.landed, c.holdId, c.exportId, c.deleteId, c.emails.bounced, c.emails.pending];
/** The ids of its data, without the resource id. */
const dataIdsOf = (c: Created) => idsOf(c).filter((id) => id !== c.resource.id);
const mentionsAny = (text: string, ids: string[]) => ids.some((id) => text.includes(id));

type ItemKind =
  | 'identity'
  | 'chatThread'
  | 'chatParticipant'
  | 'chatMembership'
  | 'chatMessage'
  | 'chatSystemMessage'
  | 'chatReadReceipt'
  | 'recording'
  | 'recordingRepeatabilityClaim'
  | 'auditRecord'
  | 'legalHold'
  | 'operationLog'
  | 'privacyRequest'
  | 'erasureReceipt'
  | 'emailDomain'
  | 'emailSenderUsername'
  | 'emailOperation'
  | 'emailSuppression'
  | 'outboxEntry'
  | 'registryDocument'
  | 'poolNumber'
  | 'phoneNumberAssignment'
  | 'phoneNumberSearch'
  | 'phoneNumberOperation'
  | 'smsOptOut'
  | 'smsRepeatability';

/** What an item is, from its own fields only (never from where it was found). */
function kindOf(item: Record<string, any>): ItemKind | 'unknown' {
  switch (item.kind) {
    case 'thread':
      return 'chatThread';
    case 'participant':
      return 'chatParticipant';
    case 'message':
      return item.type === 'text' || item.type === 'html' ? 'chatMessage' : 'chatSystemMessage';
    case 'receipt':
      return 'chatReadReceipt';
    case 'recording':
      return 'recording';
    case 'recordingRepeatability':
      return 'recordingRepeatabilityClaim';
    case 'audit':
      return 'auditRecord';
    case 'legalHold':
    case 'operationLog':
    case 'privacyRequest':
    case 'erasureReceipt':
    case 'poolNumber':
    case 'phoneNumberAssignment':
    case 'phoneNumberSearch':
    case 'phoneNumberOperation':
    case 'smsOptOut':
    case 'smsRepeatability':
    case 'emailDomain':
    case 'emailSenderUsername':
    case 'emailOperation':
    case 'emailSuppression':
      return item.kind as ItemKind;
  }
  if (typeof item.tokenGeneration === 'number') return 'identity';
  if (typeof item.sortKey === 'string' && typeof item.identityId === 'string' && typeof item.threadId === 'string') return 'chatMembership';
  if (Array.isArray(item.events) && typeof item.status === 'string') return 'outboxEntry';
  if (item.keys && typeof item.geographyKey === 'string') return 'registryDocument';
  return 'unknown';
}

/** Each kind populate() leaves, the geography container it belongs in, and how many. */
const EXPECTED_ITEMS: Record<Exclude<ItemKind, 'operationLog' | 'registryDocument'>, { container: string; count: number }> = {
  identity: { container: 'identities', count: 2 }, // alice and bob; dave was erased
  chatThread: { container: 'chatThreads', count: 1 },
  chatParticipant: { container: 'chatThreads', count: 2 },
  chatMembership: { container: 'chatMemberships', count: 2 },
  chatMessage: { container: 'chatThreads', count: 3 },
  chatSystemMessage: { container: 'chatThreads', count: 2 }, // participantAdded, topicUpdated
  chatReadReceipt: { container: 'chatThreads', count: 2 },
  recording: { container: 'recordings', count: 2 }, // kept and landed; the deleted one is gone
  recordingRepeatabilityClaim: { container: 'recordings', count: 1 },
  auditRecord: { container: 'auditRecords', count: 1 }, // the deleted recording
  legalHold: { container: 'legalHolds', count: 1 },
  privacyRequest: { container: 'privacyRequests', count: 2 },
  erasureReceipt: { container: 'erasureReceipts', count: 1 },
  // resource created, thread created, 3 recordings registered, 1 deleted, 1 test event, 1 delivery report, 1 SMS received, 1 bounce report
  // (the 3 messages' entries were in the thread's partition, deleted once published)
  outboxEntry: { container: 'outbox', count: 10 },
  poolNumber: { container: 'phoneNumbers', count: 1 }, // the pool's item, lent to the resource
  phoneNumberAssignment: { container: 'phoneNumberRecords', count: 1 },
  phoneNumberSearch: { container: 'phoneNumberRecords', count: 1 },
  phoneNumberOperation: { container: 'phoneNumberRecords', count: 2 }, // search and purchase
  smsOptOut: { container: 'smsRecords', count: 1 },
  smsRepeatability: { container: 'smsRecords', count: 1 }, // the delivery record went with its report
  emailDomain: { container: 'emailDomains', count: 1 },
  emailSenderUsername: { container: 'emailDomains', count: 1 },
  emailOperation: { container: 'emailOperations', count: 2 }, // bounced and finished; deferred and waiting
  emailSuppression: { container: 'emailSuppressions', count: 1 },
};

/** Operation log records by operation, for the calls populate() makes a known number of times. */
const EXPECTED_LOGS: Record<string, number> = {
  CreateIdentity: 2, // dave's record was erased with him
  CreateChatThread: 1,
  SendChatMessage: 3,
  SendChatReadReceipt: 2,
  UploadRecording: 2,
  DeleteRecording: 1,
  SendTestEvent: 1,
  SubmitPrivacyRequest: 2,
  SearchAvailablePhoneNumbers: 1,
  PurchasePhoneNumbers: 1,
  SMSMessagesSent: 1,
  SMSDeliveryReportsReceived: 1,
  SMSMessagesReceived: 1,
  SendMail: 2,
  DeliveryStatusUpdate: 2, // Bounced, Deferred
};

type BlobKind = 'exportResult' | 'recordingContent' | 'rejectedLandingFile' | 'emailContent';
const EXPECTED_BLOBS: Record<BlobKind, { container: string; count: number }> = {
  exportResult: { container: 'exports', count: 1 },
  recordingContent: { container: 'recordings', count: 2 },
  rejectedLandingFile: { container: 'recording-landing', count: 1 },
  // The deferred message's content; the bounced one's is gone.
  emailContent: { container: 'email-content', count: 1 },
};

function blobKindOf(name: string, c: Created): BlobKind | 'unknown' {
  const { kept, deleted, landed } = c.recordings;
  if (name === `${c.resource.id}/${c.exportId}.json`) return 'exportResult';
  if ([kept, deleted, landed].some((id) => name === `${c.resource.id}/${id}`)) return 'recordingContent';
  if (name === c.rejectedLandingFile) return 'rejectedLandingFile';
  if (name.startsWith(`${c.resource.id}/${c.emails.pending}/`)) return 'emailContent';
  return 'unknown';
}

const home = (c: Created) => (c.geography === 'Japan' ? { account: 'japan', key: 'japan' } : { account: 'default', key: 'europe' });
const homeContainer = (c: Created, container: string) => `${home(c).account}:acs-${home(c).key}/${container}`;
const homeBlobContainer = (c: Created, container: string) => `${home(c).account}:acs-${home(c).key}-${container}`;

/** The items that are a resource's: those naming it or any of its ids. */
const itemsOf = (s: Scan, c: Created) => s.items.filter((i) => i.item.resourceId === c.resource.id || mentionsAny(i.text, idsOf(c)));
const blobsOf = (s: Scan, c: Created) => s.blobs.filter((b) => mentionsAny(b.text, idsOf(c)));
const wheresOf = (items: StoredItem[], kind: ItemKind) => items.filter((i) => kindOf(i.item) === kind).map((i) => i.where);

/** Per kind: where each of the resource's items of that kind is. */
function placement(s: Scan, c: Created): Record<string, string[]> {
  const mine = itemsOf(s, c);
  const blobs = blobsOf(s, c);
  return {
    ...Object.fromEntries(Object.keys(EXPECTED_ITEMS).map((kind) => [kind, wheresOf(mine, kind as ItemKind)])),
    ...Object.fromEntries(Object.keys(EXPECTED_BLOBS).map((kind) => [`blob:${kind}`, blobs.filter((b) => blobKindOf(b.name, c) === kind).map((b) => b.where)])),
  };
}
const expectedPlacement = (c: Created): Record<string, string[]> => ({
  ...Object.fromEntries(Object.entries(EXPECTED_ITEMS).map(([kind, e]) => [kind, Array<string>(e.count).fill(homeContainer(c, e.container))])),
  ...Object.fromEntries(Object.entries(EXPECTED_BLOBS).map(([kind, e]) => [`blob:${kind}`, Array<string>(e.count).fill(homeBlobContainer(c, e.container))])),
});

/** Runs the outbox republisher timer now (it also prunes published entries past OUTBOX_RETENTION_HOURS). */
async function runOutboxRepublish(): Promise<void> {
  const run = await fetch(`${stack.httpUrl}/admin/functions/outboxRepublish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(run.status).toBe(202);
  await stack.idle();
}

const eventsFrom = (topic: LocalEventGridTopic | undefined, c: Created) =>
  (topic?.received() ?? []).map((r) => r.event as { type: string; source?: string }).filter((e) => e.source === `/resources/${c.resource.id}`);

// ---------------------------------------------------------------------------------------------

describe('residency of every kind of data', () => {
  it('has two Cosmos accounts and two storage accounts, each geography in its own', () => {
    const databases = new Set(stored.items.map((i) => i.where.split('/')[0]));
    expect([...databases].sort()).toEqual(['default:acs-control', 'default:acs-europe', 'default:acs-uk', 'japan:acs-japan']);
    const containers = new Set(stored.blobs.map((b) => b.where));
    expect([...containers].sort()).toEqual([
      'default:acs-europe-email-content',
      'default:acs-europe-exports',
      'default:acs-europe-recording-landing',
      'default:acs-europe-recordings',
      'japan:acs-japan-email-content',
      'japan:acs-japan-exports',
      'japan:acs-japan-recording-landing',
      'japan:acs-japan-recordings',
    ]);
  });

  describe.each([
    ['Japan', () => japan],
    ['Europe', () => europe],
  ] as const)('a %s resource', (_, created) => {
    it.each(Object.entries(EXPECTED_ITEMS))('%s: exactly as many as were made, all in its geography, none anywhere else', (kind, expected) => {
      const c = created();
      expect(wheresOf(itemsOf(stored, c), kind as ItemKind)).toEqual(Array<string>(expected.count).fill(homeContainer(c, expected.container)));
    });

    it('operationLog: every data-plane call logged, all in its geography, none anywhere else', () => {
      const c = created();
      const logs = itemsOf(stored, c).filter((i) => kindOf(i.item) === 'operationLog');
      expect(logs.filter((l) => l.where !== homeContainer(c, 'operationLogs')).map((l) => l.where)).toEqual([]);
      const byOperation: Record<string, number> = Object.fromEntries(Object.keys(EXPECTED_LOGS).map((op) => [op, 0]));
      for (const log of logs) byOperation[log.item.operation] = (byOperation[log.item.operation] ?? 0) + 1;
      // Exactly these operations; the privacy requests' status was read a varying number of times.
      expect(byOperation).toMatchObject(EXPECTED_LOGS);
      expect(byOperation.GetPrivacyRequest).toBeGreaterThanOrEqual(2);
      expect(Object.keys(byOperation).sort()).toEqual([...Object.keys(EXPECTED_LOGS), 'GetPrivacyRequest'].sort());
    });

    it.each(Object.entries(EXPECTED_BLOBS))('blob %s: exactly as many as were made, all in its geography, none anywhere else', (kind, expected) => {
      const c = created();
      const found = blobsOf(stored, c).filter((b) => blobKindOf(b.name, c) === kind).map((b) => b.where);
      expect(found).toEqual(Array<string>(expected.count).fill(homeBlobContainer(c, expected.container)));
    });

    it('nothing else anywhere names it: outside its geography only its registry document (control plane, no data ids)', () => {
      const c = created();
      const unexpected = itemsOf(stored, c).filter((i) => kindOf(i.item) === 'unknown' || !i.where.startsWith(`${home(c).account}:acs-${home(c).key}/`));
      expect(unexpected.map((i) => `${i.where} ${kindOf(i.item)}`)).toEqual(['default:acs-control/resources registryDocument']);
      expect(mentionsAny(unexpected[0]!.text, dataIdsOf(c))).toBe(false);
      const strayBlobs = blobsOf(stored, c).filter((b) => blobKindOf(b.name, c) === 'unknown' || !b.where.startsWith(`${home(c).account}:acs-${home(c).key}-`));
      expect(strayBlobs.map((b) => `${b.where} ${b.name}`)).toEqual([]);
    });

    it('the identity erased by the privacy delete is nowhere in any account; its receipt and request keep only keyed hashes', () => {
      const c = created();
      expect(stored.items.filter((i) => i.text.includes(c.dave)).map((i) => i.where)).toEqual([]);
      expect(stored.blobs.filter((b) => b.text.includes(c.dave)).map((b) => b.where)).toEqual([]);
      const receipt = itemsOf(stored, c).find((i) => kindOf(i.item) === 'erasureReceipt')!.item;
      // The receipt has the request's id too: look for the request by kind (the containers' order is their creation order).
      const request = itemsOf(stored, c).find((i) => i.item.id === c.deleteId && kindOf(i.item) === 'privacyRequest')!.item;
      expect(receipt).toMatchObject({ requestId: c.deleteId, subjects: [expect.stringMatching(/^sh:[\w-]{32}$/)], deleted: expect.objectContaining({ identity: 1 }) });
      expect(request).toMatchObject({ status: 'succeeded', subjects: null, subjectHashes: receipt.subjects });
    });

    it("its events went to its geography's topic only", () => {
      const c = created();
      const [own, other] = c.geography === 'Japan' ? [japanTopic, stack.topic] : [stack.topic, japanTopic];
      expect(eventsFrom(other, c)).toEqual([]);
      expect([...new Set(eventsFrom(own, c).map((e) => e.type))].sort()).toEqual([
        'AcsResidency.RecordingDeleted',
        'AcsResidency.ResourceCreated',
        'AcsResidency.TestEvent',
        'Microsoft.Communication.ChatMessageReceived',
        'Microsoft.Communication.ChatMessageReceivedInThread',
        'Microsoft.Communication.ChatThreadCreated',
        'Microsoft.Communication.ChatThreadCreatedWithUser',
        'Microsoft.Communication.EmailDeliveryReportReceived',
        'Microsoft.Communication.RecordingFileStatusUpdated',
        'Microsoft.Communication.SMSDeliveryReportReceived',
        'Microsoft.Communication.SMSReceived',
      ]);
    });

    it("its mail left through its geography's relay only (Japan's own, Europe's the default)", () => {
      const c = created();
      const [own, other] = c.geography === 'Japan' ? [japanRelay, stack.smtpRelay!] : [stack.smtpRelay!, japanRelay];
      const mine = (relay: EmbeddedSmtpRelay) => relay.server.attempts.filter((a) => a.address.endsWith(`-${c.resource.name}@fabrikam.example`)).map((a) => [a.address.split('-')[0], a.code]);
      expect(mine(own).sort()).toEqual([['bounce', 550], ['later', 451]]);
      expect(mine(other)).toEqual([]);
    });
  });
});

describe('deleting a resource', () => {
  const before = () => stored;

  it('had one of every kind before (so the deletion below has something to delete)', () => {
    expect(placement(before(), doomed)).toEqual(expectedPlacement(doomed));
    expect(placement(before(), survivor)).toEqual(expectedPlacement(survivor));
  });

  it("leaves nothing of it in any container or blob container of any account; every other resource's data is untouched", async () => {
    const response = await stack.management('DELETE', `/api/management/resources/${doomed.resource.name}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.eventsAwaitingPublication).toBe(0);
    // What it reports removed is exactly what it had, container by container.
    const had = (prefix: string, names: string[]) =>
      Object.fromEntries(names.map((name) => [name.slice(prefix.length), names.filter((n) => n === name).length]));
    // (Its number is not erased: it goes back to the pool, below.)
    const pool = 'japan:acs-japan/phoneNumbers';
    expect(response.body.removed).toEqual({
      // (Japan offers no WhatsApp: its Advanced Messaging containers are reported empty.)
      cosmos: { ...had('japan:acs-japan/', itemsOf(before(), doomed).map((i) => i.where).filter((w) => w.startsWith('japan:acs-japan/') && w !== pool)), messageChannels: 0, messageRecords: 0 },
      blobs: had('japan:', blobsOf(before(), doomed).map((b) => b.where)),
    });
    const after = await scan();

    // What still names it: the registry's tombstone (control plane) and the published outbox entry of
    // its own AcsResidency.ResourceDeleted event; neither holds any id of its data.
    const left = itemsOf(after, doomed);
    expect(left.map((i) => `${i.where} ${kindOf(i.item)}`).sort()).toEqual(['default:acs-control/resources registryDocument', 'japan:acs-japan/outbox outboxEntry']);
    for (const item of left) expect(mentionsAny(item.text, dataIdsOf(doomed)), item.where).toBe(false);
    const tombstone = left.find((i) => kindOf(i.item) === 'registryDocument')!.item;
    expect(tombstone).toMatchObject({ resourceId: doomed.resource.id, state: 'deleted', keys: { primary: '', secondary: '' } });
    const entry = left.find((i) => kindOf(i.item) === 'outboxEntry')!.item;
    expect(entry).toMatchObject({ status: 'published', ops: [] });
    expect(entry.events.map((e: { type: string }) => e.type)).toEqual(['AcsResidency.ResourceDeleted']);
    expect(blobsOf(after, doomed).map((b) => `${b.where} ${b.name}`)).toEqual([]);

    // Its number is back in Japan's pool, available, naming nothing of it.
    const number = after.items.filter((i) => i.where === pool && i.item.id === doomed.poolNumber);
    expect(number.map((i) => i.item)).toEqual([expect.objectContaining({ status: 'available', poolGeography: 'japan' })]);
    expect(number[0]!.item).not.toHaveProperty('assignedResourceId');
    expect(number[0]!.item).not.toHaveProperty('assignment');

    // Everything else is exactly as it was, item for item and blob for blob.
    const keys = (s: Scan) => ({
      items: s.items.filter((i) => !mentionsAny(i.text, idsOf(doomed)) && !(i.where === pool && i.item.id === doomed.poolNumber)).map((i) => `${i.where} ${i.item.id as string}`).sort(),
      blobs: s.blobs.filter((b) => !mentionsAny(b.text, idsOf(doomed))).map((b) => `${b.where} ${b.name}`).sort(),
    });
    expect(keys(after)).toEqual(keys(before()));
    expect(placement(after, survivor)).toEqual(expectedPlacement(survivor));
    expect(itemsOf(after, survivor).length).toBe(itemsOf(before(), survivor).length);
    expect(blobsOf(after, survivor).length).toBe(blobsOf(before(), survivor).length);
  });

  it('and its deletion event record goes with the outbox retention, after which only the control-plane tombstone names it', async () => {
    clock.advance(25 * 3_600_000);
    await runOutboxRepublish();
    const after = await scan();
    expect(itemsOf(after, doomed).map((i) => `${i.where} ${kindOf(i.item)}`)).toEqual(['default:acs-control/resources registryDocument']);
    expect(blobsOf(after, doomed)).toEqual([]);
  });
});

/**
 * Resource deletion keeps the outbox entries not yet published (so that no event is dropped), but an
 * entry a process left `pending` still holds its store operations: the deletion drops them, so the
 * republisher cannot write the deleted resource's data back.
 */
describe('deleting a resource while one of its changes was left half-done', () => {
  it('leaves nothing of it once the republisher has finished that change', async () => {
    const resource = await stack.createResource('every-kind-jp-interrupted', 'Japan');
    const threadId = '19:interrupted-change@thread.v2';
    const createdAt = new Date(clock.now().getTime() - 120_000).toISOString();
    await accounts()[1]!.cosmos.database('acs-japan').container('outbox').items.create({
      id: randomUUID(),
      resourceId: resource.id,
      status: 'pending',
      createdAt,
      attempts: 0,
      nextAttemptAt: createdAt,
      events: [],
      subjects: [],
      ops: [
        {
          op: 'upsert',
          target: { plane: 'geo', container: 'chatThreads' },
          partitionKey: threadId,
          item: { id: 'm|1', kind: 'message', type: 'text', threadId, resourceId: resource.id, content: 'a message of the deleted resource' },
        },
      ],
    });
    const deleted = await stack.management('DELETE', `/api/management/resources/${resource.name}`);
    expect(deleted.status, deleted.text).toBe(200);
    expect(deleted.body.eventsAwaitingPublication).toBe(1);
    await runOutboxRepublish();
    expect((await stack.management('DELETE', `/api/management/resources/${resource.name}`)).status).toBe(200);
    const after = await scan();
    const left = after.items.filter((i) => i.item.resourceId === resource.id && kindOf(i.item) !== 'outboxEntry' && kindOf(i.item) !== 'registryDocument');
    expect(left.map((i) => `${i.where} ${i.item.id as string}`)).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Advanced Messaging (WhatsApp): a United Kingdom resource's channel, dedupe marks, repeatability
// claim, events and logs; Japan refuses a channel.

async function populateWhatsApp(): Promise<typeof whatsApp> {
  const resource = await stack.createResource('every-kind-uk', 'United Kingdom');
  const channel = await registerChannel(stack, resource);
  const sent = await stack.signed({
    method: 'POST',
    endpoint: resource.endpoint,
    path: '/messages/notifications:send?api-version=2024-08-30',
    key: resource.primaryKey,
    body: JSON.stringify({ channelRegistrationId: channel.id, to: [PHONE], kind: 'text', content: 'hello over WhatsApp' }),
    date: clock.now(),
    headers: { 'repeatability-request-id': randomUUID(), 'repeatability-first-sent': clock.now().toUTCString() },
  });
  expect(sent.status, sent.text).toBe(202);
  await inject(stack, channel, { from: PHONE.slice(1), text: 'hello back' });
  const japanRefusal = await stack.management('PUT', `/api/management/resources/${japan.resource.name}/channels/${randomUUID()}`, {
    phoneNumberId: '1',
    businessAccountId: '2',
    accessTokenSetting: 'WHATSAPP_LOCAL_ACCESS_TOKEN',
    appSecretSetting: 'WHATSAPP_LOCAL_APP_SECRET',
    webhookVerifyToken: 'verify-token-1',
  });
  const types = () => stack.topic!.received().map((r) => r.event as { source?: string; type: string }).filter((e) => e.source === `/resources/${resource.id}`).map((e) => e.type);
  for (let wait = 0; wait < 400 && types().length < 5; wait += 1) await new Promise((resolve) => setTimeout(resolve, 25));
  for (let wait = 0; wait < 400; wait += 1) {
    const { resources } = await accounts()[0]!.cosmos.database('acs-uk').container('outbox').items.readAll<{ status: string }>().fetchAll();
    if (resources.every((e) => e.status === 'published')) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return { resource, channelId: channel.id, japanRefusal: { status: japanRefusal.status, body: japanRefusal.body } };
}

describe('Advanced Messaging data', () => {
  const mine = (s: Scan) => s.items.filter((i) => i.item.resourceId === whatsApp.resource.id || i.text.includes(whatsApp.resource.id));
  const where = (s: Scan, test: (item: Record<string, any>) => boolean) => mine(s).filter((i) => test(i.item)).map((i) => i.where);

  it("a United Kingdom resource's channel, dedupe marks and repeatability claim: exactly as many as were made, in the UK's database only", () => {
    expect(where(stored, (i) => i.kind === 'whatsAppChannel')).toEqual(['default:acs-uk/messageChannels']);
    // The inbound message and the three statuses of the send.
    expect(where(stored, (i) => i.kind === 'whatsAppWebhookSeen')).toEqual(Array<string>(4).fill('default:acs-uk/messageRecords'));
    expect(where(stored, (i) => i.kind === 'messagesRepeatability')).toEqual(['default:acs-uk/messageRecords']);
    // Resource created, the message received, three statuses.
    expect(where(stored, (i) => Array.isArray(i.events) && typeof i.status === 'string')).toEqual(Array<string>(5).fill('default:acs-uk/outbox'));
    const logs = mine(stored).filter((i) => i.item.kind === 'operationLog');
    expect(logs.every((l) => l.where === 'default:acs-uk/operationLogs')).toBe(true);
    expect(logs.map((l) => l.item.operation as string).sort()).toEqual(['MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageDeliveryStatusUpdated', 'MessageReceived', 'SendMessage']);
    expect(mine(stored).filter((i) => !i.where.startsWith('default:acs-uk/')).map((i) => i.where)).toEqual(['default:acs-control/resources']);
    expect(stored.blobs.filter((b) => b.text.includes(whatsApp.resource.id))).toEqual([]);
  });

  it('its events went to the topic, in the ACS shapes', () => {
    const types = eventsFrom(stack.topic, { resource: whatsApp.resource } as Created).map((e) => e.type);
    expect(types.sort()).toEqual([
      'AcsResidency.ResourceCreated',
      'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated',
      'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated',
      'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated',
      'Microsoft.Communication.AdvancedMessageReceived',
    ]);
    expect(eventsFrom(japanTopic, { resource: whatsApp.resource } as Created)).toEqual([]);
  });

  it('Japan refuses a channel, and stores none', () => {
    expect(whatsApp.japanRefusal.status).toBe(400);
    expect(whatsApp.japanRefusal.body.error.message).toContain('It is offered only in Asia Pacific, Australia, Europe, United Kingdom and United States');
    expect(stored.items.filter((i) => i.where.endsWith('/messageChannels') && i.item.resourceId !== whatsApp.resource.id)).toEqual([]);
  });

  it('deleting the resource removes its channel and records, and reports them', async () => {
    const before = await scan();
    const had = (container: string) => mine(before).filter((i) => i.where === `default:acs-uk/${container}`).length;
    const response = await stack.management('DELETE', `/api/management/resources/${whatsApp.resource.name}`);
    expect(response.status, response.text).toBe(200);
    expect(response.body.removed.cosmos).toMatchObject({ messageChannels: 1, messageRecords: 5, operationLogs: had('operationLogs'), outbox: had('outbox') });
    const after = await scan();
    expect(mine(after).filter((i) => ['whatsAppChannel', 'whatsAppWebhookSeen', 'messagesRepeatability', 'operationLog'].includes(i.item.kind as string))).toEqual([]);
  });
});
