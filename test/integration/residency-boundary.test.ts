import { randomBytes } from 'node:crypto';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmbeddedBlob, type EmbeddedBlob } from '../../local/emulators/azurite-blob.js';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { LocalEventGridTopic } from '../../local/eventgrid-topic/topic-server.js';
import { services } from '../../shared/services.js';
import { storeCatalogue } from '../../shared/stores/store-catalogue.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The residency boundary as the app enforces it: only enabled geographies take resources; in strict
 * residency the app does not start unless every enabled geography has accounts of its own; and where
 * the infrastructure declares the stores (STORE_PROVISIONING=verify) the app creates nothing and
 * answers 503, naming what is missing in its log, until every declared store exists.
 */

/** One geography's own accounts: an embedded Cosmos server, Azurite and a local topic. */
interface OwnAccounts {
  cosmos: EmbeddedCosmos;
  blob: EmbeddedBlob;
  topic: LocalEventGridTopic;
  env(geo: string): Record<string, string>;
}

async function ownAccounts(): Promise<OwnAccounts> {
  const [cosmos, blob] = await Promise.all([startEmbeddedCosmos(0), startEmbeddedBlob(0)]);
  const topic = new LocalEventGridTopic({ key: randomBytes(32).toString('base64') });
  await topic.start();
  return {
    cosmos,
    blob,
    topic,
    env: (geo) => ({
      [`COSMOS_ENDPOINT__${geo}`]: cosmos.endpoint,
      [`COSMOS_KEY__${geo}`]: cosmos.key,
      [`STORAGE_CONNECTION_STRING__${geo}`]: blob.connectionString,
      [`EVENTGRID_TOPIC_ENDPOINT__${geo}`]: topic.endpoint,
      [`EVENTGRID_TOPIC_KEY__${geo}`]: topic.key,
    }),
  };
}

async function stopAccounts(accounts: OwnAccounts | undefined): Promise<void> {
  if (!accounts) return;
  await accounts.topic.stop();
  accounts.topic.dispose();
  await accounts.cosmos.stop();
  await accounts.blob.stop();
}

const cosmosOf = (endpoint: string, key: string) => new CosmosClient({ endpoint, key, connectionPolicy: { enableEndpointDiscovery: false } });

describe('enabled geographies', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack({ env: { ENABLED_GEOGRAPHIES: 'Europe, japan' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('refuses a resource in a geography that is not enabled, naming the enabled ones, and stores nothing', async () => {
    const refused = await stack.management('PUT', '/api/management/resources/in-france', { geography: 'France' });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'ValidationError',
      message: 'The geography France is not enabled in this deployment; enabled: Europe, Japan.',
      target: 'geography',
    });
    expect((await stack.management('GET', '/api/management/resources/in-france')).status).toBe(404);
    const registry = cosmosOf(stack.stores.cosmosEndpoint, stack.stores.cosmosKey).database('acs-control').container('resources');
    const { resources } = await registry.items.query('SELECT c.name FROM c').fetchAll();
    expect(resources).toEqual([]);

    expect((await stack.management('PUT', '/api/management/resources/in-japan', { geography: 'Japan' })).status).toBe(201);
    const { resources: after } = await registry.items.query<{ name: string; geographyKey: string }>('SELECT c.name, c.geographyKey FROM c').fetchAll();
    expect(after).toEqual([{ name: 'in-japan', geographyKey: 'japan' }]);
  });

  it('sweeps and audits the enabled geographies only', async () => {
    expect(services().stores.all().map((geo) => geo.geography.key)).toEqual(['europe', 'japan']);
    const audit = await stack.management('POST', '/api/management/residency/audit');
    expect(audit.status).toBe(200);
    expect(audit.body.geographies.map((g: { geography: string }) => g.geography)).toEqual(['Europe', 'Japan']);
  });
});

describe('strict residency', () => {
  let europe: OwnAccounts;
  let japan: OwnAccounts;
  beforeAll(async () => {
    [europe, japan] = await Promise.all([ownAccounts(), ownAccounts()]);
  });
  afterAll(async () => {
    await Promise.all([stopAccounts(europe), stopAccounts(japan)]);
  });

  it('refuses to start while an enabled geography has no accounts of its own, naming every missing setting', async () => {
    const started = startTestStack({ env: { STRICT_RESIDENCY: 'true', ENABLED_GEOGRAPHIES: 'Europe,Japan', ...japan.env('JAPAN') } });
    // The dev host gives every geography its own embedded Cosmos endpoint (COSMOS_ENDPOINT__EUROPE), not storage or a topic.
    await expect(started).rejects.toThrow(
      'Invalid settings:\n  - STRICT_RESIDENCY: Europe has no account of its own: set STORAGE_ACCOUNT_URL__EUROPE (or STORAGE_CONNECTION_STRING__EUROPE), EVENTGRID_TOPIC_ENDPOINT__EUROPE',
    );
  });

  it('refuses to start when two geographies share an account', async () => {
    const env = { STRICT_RESIDENCY: 'true', ENABLED_GEOGRAPHIES: 'Europe,Japan', ...japan.env('JAPAN'), ...europe.env('EUROPE'), COSMOS_ENDPOINT__EUROPE: japan.cosmos.endpoint };
    await expect(startTestStack({ env })).rejects.toThrow(
      `STRICT_RESIDENCY: COSMOS_ENDPOINT__EUROPE and COSMOS_ENDPOINT__JAPAN name the same cosmos account (${new URL(japan.cosmos.endpoint).host}); each geography needs its own`,
    );
  });

  it('with declared stores: creates nothing, answers 503 naming what is missing in the log, and serves once everything exists', async () => {
    // The app's log goes to stdout: kept here (the check at start logs too) instead of the test output.
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    const stack = await startTestStack({
      env: { STRICT_RESIDENCY: 'true', STORE_PROVISIONING: 'verify', ENABLED_GEOGRAPHIES: 'Europe,Japan', ...europe.env('EUROPE'), ...japan.env('JAPAN'), LOG_LEVEL: 'info' },
    });
    try {
      const refused = await stack.management('PUT', '/api/management/resources/strict-eu', { geography: 'Europe' });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('ServiceUnavailable');
      expect(refused.text).not.toContain('acs-');
      written.length = 0;
      const missing = await services().readiness.check();
      const host = (endpoint: string) => new URL(endpoint).host;
      const blobHost = (account: EmbeddedBlob) => new URL(BlobServiceClient.fromConnectionString(account.connectionString).url).host;
      expect([...missing].sort()).toEqual(
        [
          `Cosmos DB ${host(stack.stores.cosmosEndpoint)} (control): database 'acs-control' is missing, with all its containers (resources, signingKeys, purgeRuns, purgeRunItems, residencyAudits)`,
          `Cosmos DB ${host(europe.cosmos.endpoint)} (Europe): database 'acs-europe' is missing, with all its containers (outbox, identities, chatThreads, chatMemberships, recordings, auditRecords, legalHolds, operationLogs, privacyRequests, erasureReceipts, phoneNumbers, phoneNumberRecords, smsRecords, emailDomains, emailOperations, emailSuppressions, messageChannels, messageRecords)`,
          `Cosmos DB ${host(japan.cosmos.endpoint)} (Japan): database 'acs-japan' is missing, with all its containers (outbox, identities, chatThreads, chatMemberships, recordings, auditRecords, legalHolds, operationLogs, privacyRequests, erasureReceipts, phoneNumbers, phoneNumberRecords, smsRecords, emailDomains, emailOperations, emailSuppressions, messageChannels, messageRecords)`,
          ...['exports', 'recordings', 'recording-landing', 'email-content'].map((c) => `Blob storage ${blobHost(europe.blob)} (Europe): container 'acs-europe-${c}' is missing`),
          ...['exports', 'recordings', 'recording-landing', 'email-content'].map((c) => `Blob storage ${blobHost(japan.blob)} (Japan): container 'acs-japan-${c}' is missing`),
        ].sort(),
      );
      // Each problem is logged on its own line; the app created nothing.
      const logged = written.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { event: string; level: string; detail?: string }).filter((r) => r.event === 'stores.missing');
      expect(logged.map((r) => [r.level, r.detail])).toEqual(missing.map((problem) => ['error', problem]));
      expect((await cosmosOf(europe.cosmos.endpoint, europe.cosmos.key).databases.readAll().fetchAll()).resources).toEqual([]);
      expect((await cosmosOf(stack.stores.cosmosEndpoint, stack.stores.cosmosKey).databases.readAll().fetchAll()).resources).toEqual([]);
      const containers = async (account: EmbeddedBlob) => {
        const names: string[] = [];
        for await (const c of BlobServiceClient.fromConnectionString(account.connectionString).listContainers()) names.push(c.name);
        return names;
      };
      expect([await containers(europe.blob), await containers(japan.blob)]).toEqual([[], []]);

      // The infrastructure declares everything from the catalogue, except Japan's exports container
      // and one of its composite indexes, and gives Europe's outbox the wrong partition key.
      const catalogue = storeCatalogue(services().settings);
      const accounts = { control: { endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey }, Europe: { endpoint: europe.cosmos.endpoint, key: europe.cosmos.key }, Japan: { endpoint: japan.cosmos.endpoint, key: japan.cosmos.key } };
      for (const declared of [catalogue.control, ...catalogue.geographies]) {
        const account = declared.geographyKey ? accounts[declared.geographyKey === 'europe' ? 'Europe' : 'Japan'] : accounts.control;
        const { database } = await cosmosOf(account.endpoint, account.key).databases.createIfNotExists({ id: declared.database });
        for (const container of declared.containers) {
          const wrongKey = declared.geographyKey === 'europe' && container.id === 'outbox';
          const indexes = declared.geographyKey === 'japan' ? container.compositeIndexes.slice(1) : container.compositeIndexes;
          await database.containers.create({
            id: container.id,
            partitionKey: { paths: [wrongKey ? '/id' : container.partitionKey] },
            indexingPolicy: { compositeIndexes: indexes.map((paths) => paths.map((path) => ({ path, order: 'ascending' as const }))) },
          });
        }
      }
      for (const [geography, account] of [['Europe', europe.blob], ['Japan', japan.blob]] as const) {
        const service = BlobServiceClient.fromConnectionString(account.connectionString);
        for (const name of catalogue.geographies.find((g) => g.geography === geography)!.blobContainers) {
          if (name !== 'acs-japan-exports') await service.createContainer(name);
        }
      }
      expect(await services().readiness.check()).toEqual([
        `Cosmos DB ${host(europe.cosmos.endpoint)} (Europe): database 'acs-europe' container 'outbox' has partition key /id; the app needs /resourceId`,
        `Cosmos DB ${host(japan.cosmos.endpoint)} (Japan): database 'acs-japan' container 'chatThreads' lacks the composite index (/kind asc, /resourceId asc, /lastActivityAt asc)`,
        `Blob storage ${blobHost(japan.blob)} (Japan): container 'acs-japan-exports' is missing`,
      ]);
      expect((await stack.management('PUT', '/api/management/resources/strict-eu', { geography: 'Europe' })).status).toBe(503);

      const outbox = cosmosOf(europe.cosmos.endpoint, europe.cosmos.key).database('acs-europe').container('outbox');
      await outbox.delete();
      await cosmosOf(europe.cosmos.endpoint, europe.cosmos.key).database('acs-europe').containers.create({ id: 'outbox', partitionKey: { paths: ['/resourceId'] } });
      const chatThreads = cosmosOf(japan.cosmos.endpoint, japan.cosmos.key).database('acs-japan').container('chatThreads');
      await chatThreads.delete();
      const threads = catalogue.geographies[1]!.containers.find((c) => c.id === 'chatThreads')!;
      await cosmosOf(japan.cosmos.endpoint, japan.cosmos.key)
        .database('acs-japan')
        .containers.create({ id: 'chatThreads', partitionKey: { paths: [threads.partitionKey] }, indexingPolicy: { compositeIndexes: threads.compositeIndexes.map((paths) => paths.map((path) => ({ path, order: 'ascending' as const }))) } });
      await BlobServiceClient.fromConnectionString(japan.blob.connectionString).createContainer('acs-japan-exports');
      expect(await services().readiness.check()).toEqual([]);

      const created = await stack.management('PUT', '/api/management/resources/strict-jp', { geography: 'Japan' });
      expect(created.status).toBe(201);
      // The resource's event went to Japan's own topic, not to Europe's or the default one.
      const createdEvents = (topic: LocalEventGridTopic | undefined) => (topic?.received() ?? []).filter((r) => r.event.type === 'AcsResidency.ResourceCreated').length;
      await expect.poll(() => createdEvents(japan.topic)).toBe(1);
      expect([createdEvents(europe.topic), createdEvents(stack.topic)]).toEqual([0, 0]);
    } finally {
      await stack.stop();
      spy.mockRestore();
    }
  });
});
