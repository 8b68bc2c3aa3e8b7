import type { AccessToken, TokenCredential } from '@azure/core-auth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedCosmos, type EmbeddedCosmos } from '../../local/emulators/cosmos-emulator.js';
import { parseSettings } from '../../shared/config/settings.js';
import { GEOGRAPHIES, geographyByKey } from '../../shared/geography/geographies.js';
import { accountLocationCheck, type GeographyAccounts } from '../../shared/residency/account-locations.js';
import type { ResidencyAuditReport } from '../../shared/residency/residency-audit.js';
import { CosmosClients } from '../../shared/stores/cosmos-clients.js';
import { storeTls } from '../../shared/stores/store-tls.js';
import { StoreDirectory } from '../../shared/stores/store-directory.js';
import { ArmSimulator } from '../support/arm-simulator.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The residency audit's account checks: where each enabled geography's Cosmos account, storage
 * account and Event Grid topic are. Locally each geography's Cosmos endpoint (the embedded server)
 * reports the geography's primary region; a test moves one. Storage accounts and topics are read
 * from ARM, here a simulator that demands the app's token.
 */

/** A credential that hands out one answer and records the scopes it was asked for. */
class RecordingCredential implements TokenCredential {
  readonly scopes: string[][] = [];
  constructor(private readonly answer: () => AccessToken | null) {}
  async getToken(scopes: string | string[]): Promise<AccessToken | null> {
    this.scopes.push([scopes].flat());
    return this.answer();
  }
}
const credentialWithToken = (token: string) => new RecordingCredential(() => ({ token, expiresOnTimestamp: Date.now() + 3_600_000 }));
const credentialWithoutToken = () =>
  new RecordingCredential(() => {
    // Only the first line is reported, trimmed.
    throw new Error('ManagedIdentityCredential: no managed identity endpoint was found. \nDetails follow on further lines.');
  });

const hostOf = (url: string) => new URL(url).host;
type Status = GeographyAccounts['cosmos']['status'];
const statuses = (accounts: Iterable<[string, GeographyAccounts]>) =>
  Object.fromEntries([...accounts].map(([geography, a]): [string, Status[]] => [geography, [a.cosmos.status, a.storage.status, a.topic.status]]));

describe('on the local stack, every enabled geography', () => {
  let stack: TestStack;
  const credential = credentialWithToken('never-used');
  beforeAll(async () => {
    stack = await startTestStack({ credential });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const audit = async (): Promise<ResidencyAuditReport> => {
    const response = await stack.management('POST', '/api/management/residency/audit');
    expect(response.status).toBe(200);
    return response.body as ResidencyAuditReport;
  };
  const byGeography = (report: ResidencyAuditReport) => report.geographies.map((g): [string, GeographyAccounts] => [g.geography, g.accounts]);
  const allBut = (key: string) => GEOGRAPHIES.filter((g) => g.key !== key);
  const expectedStatuses = (cosmos: (key: string) => Status) => Object.fromEntries(GEOGRAPHIES.map((g) => [g.name, [cosmos(g.key), 'notVerified', 'notVerified']]));

  it("has its own Cosmos endpoint reporting its primary region: ok; the storage account and topic, without ARM resource ids, are notVerified (and shared by all)", async () => {
    const report = await audit();
    expect(report.verdict).toBe('notVerified');
    expect(statuses(byGeography(report))).toEqual(expectedStatuses(() => 'ok'));
    for (const g of GEOGRAPHIES) {
      const { cosmos } = report.geographies.find((row) => row.geography === g.name)!.accounts;
      expect(cosmos).toEqual({
        endpointHost: hostOf(stack.cosmosEndpoints.get(g.key)!.endpoint),
        readableLocations: [g.regions[0]],
        writableLocations: [g.regions[0]],
        status: 'ok',
        sharedWith: [],
        detail: `the Cosmos account is in ${g.regions[0]}, within ${g.name}'s regions (${g.regions.join(', ')})`,
      });
    }
    expect(new Set(report.geographies.map((g) => g.accounts.cosmos.endpointHost)).size).toBe(16);

    const others = allBut('japan');
    const alsoOf = `; it is also the account of ${others.map((g) => g.name).join(', ')}`;
    const japan = report.geographies.find((row) => row.geography === 'Japan')!.accounts;
    expect(japan.storage).toEqual({
      account: `${hostOf(stack.stores.storageConnectionString.match(/BlobEndpoint=([^;]+)/)![1]!)}/devstoreaccount1`,
      resourceId: null,
      status: 'notVerified',
      sharedWith: others.map((g) => g.key),
      detail: `STORAGE_ACCOUNT_RESOURCE_ID is not set, so the storage account's location is not read from ARM${alsoOf}`,
    });
    expect(japan.topic).toEqual({
      account: hostOf(stack.env.EVENTGRID_TOPIC_ENDPOINT!),
      resourceId: null,
      status: 'notVerified',
      sharedWith: others.map((g) => g.key),
      detail: `EVENTGRID_TOPIC_RESOURCE_ID is not set, so the Event Grid topic's location is not read from ARM${alsoOf}`,
    });
    // Nothing to read from ARM: no token was asked for.
    expect(credential.scopes).toEqual([]);
  });

  it('is reported wrongLocation when its Cosmos account is planted in another region, exactly that geography; any of its regions is ok', async () => {
    const japan = stack.cosmosEndpoints.get('japan')!;
    try {
      japan.location = 'West US 2';
      const planted = await audit();
      expect(planted.verdict).toBe('problemsFound');
      expect(planted.misplacedCount).toBe(0);
      expect(statuses(byGeography(planted))).toEqual(expectedStatuses((key) => (key === 'japan' ? 'wrongLocation' : 'ok')));
      expect(planted.geographies.find((row) => row.geography === 'Japan')!.accounts.cosmos).toEqual({
        endpointHost: hostOf(japan.endpoint),
        readableLocations: ['westus2'],
        writableLocations: ['westus2'],
        status: 'wrongLocation',
        sharedWith: [],
        detail: "the Cosmos account is in westus2, outside Japan's regions (japaneast, japanwest)",
      });

      japan.location = 'Japan West';
      const secondary = await audit();
      expect(secondary.verdict).toBe('notVerified');
      expect(secondary.geographies.find((row) => row.geography === 'Japan')!.accounts.cosmos).toMatchObject({ readableLocations: ['japanwest'], status: 'ok' });
    } finally {
      japan.location = 'Japan East';
    }
  });
});

describe('a geography whose storage account and topic are read from ARM, on the local stack', () => {
  const TOKEN = 'arm-token-of-the-app';
  const storageId = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/acs-japan/providers/Microsoft.Storage/storageAccounts/devstoreaccount1';
  const topicId = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/acs-japan/providers/Microsoft.EventGrid/topics/acs-japan';
  const credential = credentialWithToken(TOKEN);
  let arm: ArmSimulator;
  let stack: TestStack;
  beforeAll(async () => {
    arm = new ArmSimulator(TOKEN);
    await arm.start();
    stack = await startTestStack({
      credential,
      env: { ENABLED_GEOGRAPHIES: 'Japan', ARM_ENDPOINT: arm.url, STORAGE_ACCOUNT_RESOURCE_ID: storageId, EVENTGRID_TOPIC_RESOURCE_ID: topicId },
    });
    // ARM knows the local topic under its endpoint (known once the stack runs).
    arm.add(storageId, { location: 'japaneast' });
    arm.add(topicId, { location: 'japaneast', properties: { endpoint: stack.env.EVENTGRID_TOPIC_ENDPOINT! } });
  });
  afterAll(async () => {
    await stack?.stop();
    await arm?.stop();
  });

  const audit = async (): Promise<ResidencyAuditReport> => {
    const response = await stack.management('POST', '/api/management/residency/audit');
    expect(response.status).toBe(200);
    return response.body as ResidencyAuditReport;
  };

  it('is ok when all three accounts are verified in its regions', async () => {
    const report = await audit();
    expect(report.verdict).toBe('ok');
    expect(report.geographies.map((g) => g.geography)).toEqual(['Japan']);
    const { storage, topic } = report.geographies[0]!.accounts;
    expect(storage).toMatchObject({ resourceId: storageId, location: 'japaneast', status: 'ok', sharedWith: [] });
    expect(topic).toEqual({
      account: hostOf(stack.env.EVENTGRID_TOPIC_ENDPOINT!),
      resourceId: topicId,
      location: 'japaneast',
      status: 'ok',
      sharedWith: [],
      detail: "the Event Grid topic is in japaneast, within Japan's regions (japaneast, japanwest)",
    });
    expect(credential.scopes).toEqual([['https://management.azure.com/.default']]);
  });

  it('is problemsFound when ARM puts the storage account elsewhere, and notVerified when the identity may not read it', async () => {
    arm.add(storageId, { location: 'westus' });
    const moved = await audit();
    expect(moved.verdict).toBe('problemsFound');
    expect(moved.geographies[0]!.accounts.storage).toMatchObject({
      location: 'westus',
      status: 'wrongLocation',
      detail: "the storage account is in westus, outside Japan's regions (japaneast, japanwest)",
    });

    arm.forbid(storageId, { location: 'japaneast' });
    const forbidden = await audit();
    expect(forbidden.verdict).toBe('notVerified');
    expect(forbidden.geographies[0]!.accounts.storage).toEqual({
      account: expect.stringMatching(/\/devstoreaccount1$/),
      resourceId: storageId,
      status: 'notVerified',
      sharedWith: [],
      detail: "ARM refused the app's identity (403 AuthorizationFailed): it needs the Reader role on the storage account's resource group",
    });
    expect(forbidden.geographies[0]!.accounts.topic.status).toBe('ok');
  });
});

describe('the account checks, against the embedded Cosmos server and the ARM simulator', () => {
  const TOKEN = 'arm-token-of-the-app';
  const SUBSCRIPTION = '/subscriptions/00000000-0000-0000-0000-000000000001';
  const storageId = (group: string, name: string) => `${SUBSCRIPTION}/resourceGroups/${group}/providers/Microsoft.Storage/storageAccounts/${name}`;
  const topicId = (group: string, name: string) => `${SUBSCRIPTION}/resourceGroups/${group}/providers/Microsoft.EventGrid/topics/${name}`;
  const topicUrl = (name: string, region: string) => `https://${name}.${region}-1.eventgrid.azure.net/api/events`;
  let cosmos: EmbeddedCosmos;
  let arm: ArmSimulator;
  let env: Record<string, string>;
  let noLocation: { endpoint: string };
  let tokenOnly: { endpoint: string };
  let multiRegion: Record<'japan' | 'us' | 'india', { endpoint: string }>;
  const directories: CosmosClients[] = [];

  beforeAll(async () => {
    cosmos = await startEmbeddedCosmos(0);
    const [japan, europe, brazil] = [await cosmos.addEndpoint('Japan East'), await cosmos.addEndpoint('West Europe'), await cosmos.addEndpoint('Brazil South')];
    noLocation = await cosmos.addEndpoint('');
    tokenOnly = await cosmos.addEndpoint('Korea Central');
    // Multi-region accounts: written in the first region, readable in the others too.
    multiRegion = { japan: await cosmos.addEndpoint('Japan East', 0, ['Japan West']), us: await cosmos.addEndpoint('East US', 0, ['West US']), india: await cosmos.addEndpoint('Central India', 0, ['South India']) };
    arm = new ArmSimulator(TOKEN)
      .add(storageId('acs-japan', 'acsjapan'), { location: 'japaneast' })
      .add(topicId('acs-japan', 'acs-japan'), { location: 'japanwest', properties: { endpoint: topicUrl('acs-japan', 'japanwest') } })
      .add(storageId('acs-europe', 'acseurope'), { location: 'eastus' })
      .add(topicId('acs-europe', 'acs-europe'), { location: 'westeurope', properties: { endpoint: topicUrl('acs-europe', 'westeurope') } })
      .forbid(storageId('acs-france', 'acsfrance'), { location: 'francecentral' })
      .add(storageId('acs-shared', 'acsdefault'), { location: 'brazilsouth' })
      .add(topicId('acs-brazil', 'acs-brazil-old'), { location: 'brazilsouth', properties: { endpoint: topicUrl('acs-brazil-old', 'brazilsouth') } })
      // ARM answers without a location; a topic without an endpoint, or with one that is not a URL.
      .add(storageId('acs-japan', 'acsjapannoloc'), { location: '' })
      .add(topicId('acs-japan', 'acs-japan-noendpoint'), { location: 'japaneast' })
      .add(topicId('acs-canada', 'acs-canada'), { location: 'canadacentral', properties: { endpoint: 'not a url' } })
      .failing(storageId('acs-japan', 'acsjapanfailing'));
    await arm.start();
    env = {
      MANAGEMENT_KEY: 'm'.repeat(32),
      TELEMETRY_HASH_KEY: 't'.repeat(32),
      ENABLED_GEOGRAPHIES: 'Japan,Europe,France,Brazil,Korea',
      STRICT_RESIDENCY: 'false',
      ARM_ENDPOINT: arm.url,
      // Korea falls back to the default account (the embedded server's main endpoint, South Central US).
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      // A geography naming its own account gives its own key (the default key is not taken for it).
      COSMOS_ENDPOINT__JAPAN: japan.endpoint,
      COSMOS_KEY__JAPAN: cosmos.key,
      COSMOS_ENDPOINT__BRAZIL: brazil.endpoint,
      COSMOS_KEY__BRAZIL: cosmos.key,
      // Europe and France name the same account.
      COSMOS_ENDPOINT__EUROPE: europe.endpoint,
      COSMOS_KEY__EUROPE: cosmos.key,
      COSMOS_ENDPOINT__FRANCE: europe.endpoint,
      COSMOS_KEY__FRANCE: cosmos.key,
      // Brazil uses the default storage account, and so the default resource id.
      STORAGE_ACCOUNT_URL: 'https://acsdefault.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID: storageId('acs-shared', 'acsdefault'),
      STORAGE_ACCOUNT_URL__JAPAN: 'https://acsjapan.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID__JAPAN: storageId('acs-japan', 'acsjapan'),
      STORAGE_ACCOUNT_URL__EUROPE: 'https://acseurope.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID__EUROPE: storageId('acs-europe', 'acseurope'),
      STORAGE_ACCOUNT_URL__FRANCE: 'https://acsfrance.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID__FRANCE: storageId('acs-france', 'acsfrance'),
      STORAGE_ACCOUNT_URL__KOREA: 'https://acskorea.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID__KOREA: storageId('acs-korea', 'acskorea2'),
      EVENTGRID_TOPIC_ENDPOINT__JAPAN: topicUrl('acs-japan', 'japanwest'),
      EVENTGRID_TOPIC_RESOURCE_ID__JAPAN: topicId('acs-japan', 'acs-japan'),
      EVENTGRID_TOPIC_ENDPOINT__EUROPE: topicUrl('acs-europe', 'westeurope'),
      EVENTGRID_TOPIC_RESOURCE_ID__EUROPE: topicId('acs-europe', 'acs-europe'),
      EVENTGRID_TOPIC_ENDPOINT__FRANCE: topicUrl('acs-france', 'francecentral'),
      EVENTGRID_TOPIC_RESOURCE_ID__FRANCE: storageId('acs-france', 'acsfrance'),
      EVENTGRID_TOPIC_ENDPOINT__BRAZIL: topicUrl('acs-brazil', 'brazilsouth'),
      EVENTGRID_TOPIC_RESOURCE_ID__BRAZIL: topicId('acs-brazil', 'acs-brazil-old'),
      EVENTGRID_TOPIC_ENDPOINT__KOREA: topicUrl('acs-korea', 'koreacentral'),
      EVENTGRID_TOPIC_RESOURCE_ID__KOREA: topicId('acs-korea', 'acs-korea'),
    };
  });
  afterAll(async () => {
    for (const clients of directories) clients.dispose();
    await arm?.stop();
    await cosmos?.stop();
  });

  /** Runs the checks as the audit does, with the app's credential being `credential`. */
  const check = async (credential: TokenCredential, settingsEnv: Record<string, string> = env) => {
    const settings = parseSettings(settingsEnv);
    const source = () => Promise.resolve(credential);
    const tls = storeTls(undefined);
    const clients = new CosmosClients({ allowSelfSigned: false, credential: source, tls });
    directories.push(clients);
    const stores = new StoreDirectory(settings, clients, source, tls).all();
    return accountLocationCheck({ settings, credential: source, fetch: globalThis.fetch })(stores);
  };
  const region = (key: string) => `${geographyByKey(key).name}'s regions (${geographyByKey(key).regions.join(', ')})`;

  it('reads each location and reports it: ok, wrongLocation, shared, or notVerified with the reason', async () => {
    const credential = credentialWithToken(TOKEN);
    const accounts = await check(credential);
    expect(statuses(accounts)).toEqual({
      japan: ['ok', 'ok', 'ok'],
      europe: ['shared', 'wrongLocation', 'ok'],
      france: ['wrongLocation', 'notVerified', 'notVerified'],
      brazil: ['ok', 'ok', 'notVerified'],
      korea: ['wrongLocation', 'notVerified', 'notVerified'],
    });
    const cosmosHost = (key: string) => hostOf(env[`COSMOS_ENDPOINT__${key.toUpperCase()}`] ?? env.COSMOS_ENDPOINT!);
    expect(Object.fromEntries([...accounts].map(([key, a]) => [key, a.cosmos]))).toEqual({
      japan: { endpointHost: cosmosHost('japan'), readableLocations: ['japaneast'], writableLocations: ['japaneast'], status: 'ok', sharedWith: [], detail: `the Cosmos account is in japaneast, within ${region('japan')}` },
      europe: {
        endpointHost: cosmosHost('europe'),
        readableLocations: ['westeurope'],
        writableLocations: ['westeurope'],
        status: 'shared',
        sharedWith: ['france'],
        detail: `the Cosmos account is in westeurope, within ${region('europe')}, but is also the account of France`,
      },
      france: {
        endpointHost: cosmosHost('europe'),
        readableLocations: ['westeurope'],
        writableLocations: ['westeurope'],
        status: 'wrongLocation',
        sharedWith: ['europe'],
        detail: `the Cosmos account is in westeurope, outside ${region('france')}; it is also the account of Europe`,
      },
      brazil: { endpointHost: cosmosHost('brazil'), readableLocations: ['brazilsouth'], writableLocations: ['brazilsouth'], status: 'ok', sharedWith: [], detail: `the Cosmos account is in brazilsouth, within ${region('brazil')}` },
      korea: {
        endpointHost: cosmosHost('korea'),
        readableLocations: ['southcentralus'],
        writableLocations: ['southcentralus'],
        status: 'wrongLocation',
        sharedWith: [],
        detail: `the Cosmos account is in southcentralus, outside ${region('korea')}`,
      },
    });
    expect(Object.fromEntries([...accounts].map(([key, a]) => [key, a.storage]))).toEqual({
      japan: { account: 'acsjapan.blob.core.windows.net', resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__JAPAN, location: 'japaneast', status: 'ok', sharedWith: [], detail: `the storage account is in japaneast, within ${region('japan')}` },
      europe: { account: 'acseurope.blob.core.windows.net', resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__EUROPE, location: 'eastus', status: 'wrongLocation', sharedWith: [], detail: `the storage account is in eastus, outside ${region('europe')}` },
      france: {
        account: 'acsfrance.blob.core.windows.net',
        resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__FRANCE,
        status: 'notVerified',
        sharedWith: [],
        detail: "ARM refused the app's identity (403 AuthorizationFailed): it needs the Reader role on the storage account's resource group",
      },
      brazil: { account: 'acsdefault.blob.core.windows.net', resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID, location: 'brazilsouth', status: 'ok', sharedWith: [], detail: `the storage account is in brazilsouth, within ${region('brazil')}` },
      korea: {
        account: 'acskorea.blob.core.windows.net',
        resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__KOREA,
        status: 'notVerified',
        sharedWith: [],
        detail: "STORAGE_ACCOUNT_RESOURCE_ID__KOREA names the storage account 'acskorea2', but the app uses 'acskorea'",
      },
    });
    expect(Object.fromEntries([...accounts].map(([key, a]) => [key, a.topic]))).toEqual({
      japan: { account: hostOf(env.EVENTGRID_TOPIC_ENDPOINT__JAPAN!), resourceId: env.EVENTGRID_TOPIC_RESOURCE_ID__JAPAN, location: 'japanwest', status: 'ok', sharedWith: [], detail: `the Event Grid topic is in japanwest, within ${region('japan')}` },
      europe: { account: hostOf(env.EVENTGRID_TOPIC_ENDPOINT__EUROPE!), resourceId: env.EVENTGRID_TOPIC_RESOURCE_ID__EUROPE, location: 'westeurope', status: 'ok', sharedWith: [], detail: `the Event Grid topic is in westeurope, within ${region('europe')}` },
      france: {
        account: hostOf(env.EVENTGRID_TOPIC_ENDPOINT__FRANCE!),
        resourceId: env.EVENTGRID_TOPIC_RESOURCE_ID__FRANCE,
        status: 'notVerified',
        sharedWith: [],
        detail: 'EVENTGRID_TOPIC_RESOURCE_ID__FRANCE is not the resource id of an Event Grid topic (/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.EventGrid/topics/<name>)',
      },
      brazil: {
        account: hostOf(env.EVENTGRID_TOPIC_ENDPOINT__BRAZIL!),
        resourceId: env.EVENTGRID_TOPIC_RESOURCE_ID__BRAZIL,
        status: 'notVerified',
        sharedWith: [],
        detail: `EVENTGRID_TOPIC_RESOURCE_ID__BRAZIL names the topic at acs-brazil-old.brazilsouth-1.eventgrid.azure.net, but the app publishes to ${hostOf(env.EVENTGRID_TOPIC_ENDPOINT__BRAZIL!)}`,
      },
      korea: { account: hostOf(env.EVENTGRID_TOPIC_ENDPOINT__KOREA!), resourceId: env.EVENTGRID_TOPIC_RESOURCE_ID__KOREA, status: 'notVerified', sharedWith: [], detail: 'ARM answered 404 ResourceNotFound for EVENTGRID_TOPIC_RESOURCE_ID__KOREA' },
    });

    // One token, for ARM; every read with it and the resource type's API version.
    expect(credential.scopes).toEqual([['https://management.azure.com/.default']]);
    expect(arm.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(arm.requests.map((r) => `${r.path}?api-version=${r.apiVersion}`).sort()).toEqual(
      [
        `${storageId('acs-japan', 'acsjapan')}?api-version=2023-05-01`,
        `${topicId('acs-japan', 'acs-japan')}?api-version=2025-02-15`,
        `${storageId('acs-europe', 'acseurope')}?api-version=2023-05-01`,
        `${topicId('acs-europe', 'acs-europe')}?api-version=2025-02-15`,
        `${storageId('acs-france', 'acsfrance')}?api-version=2023-05-01`,
        `${storageId('acs-shared', 'acsdefault')}?api-version=2023-05-01`,
        `${topicId('acs-brazil', 'acs-brazil-old')}?api-version=2025-02-15`,
        `${topicId('acs-korea', 'acs-korea')}?api-version=2025-02-15`,
      ].sort(),
    );
  });

  it('without a token, reads nothing from ARM and says notVerified, never ok', async () => {
    const before = arm.requests.length;
    const accounts = await check(credentialWithoutToken());
    expect(arm.requests.length).toBe(before);
    expect(statuses(accounts)).toEqual({
      japan: ['ok', 'notVerified', 'notVerified'],
      europe: ['shared', 'notVerified', 'notVerified'],
      france: ['wrongLocation', 'notVerified', 'notVerified'],
      brazil: ['ok', 'notVerified', 'notVerified'],
      korea: ['wrongLocation', 'notVerified', 'notVerified'],
    });
    const noToken = "the app's identity has no token for ARM (ManagedIdentityCredential: no managed identity endpoint was found.)";
    expect(accounts.get('japan')!.storage).toEqual({ account: 'acsjapan.blob.core.windows.net', resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__JAPAN, status: 'notVerified', sharedWith: [], detail: noToken });
    expect([...accounts].flatMap(([, a]) => [a.storage, a.topic]).filter((c) => c.detail === noToken)).toHaveLength(8);
  });

  it('with a token ARM does not accept, says notVerified', async () => {
    const accounts = await check(credentialWithToken('a-stale-token'));
    expect(accounts.get('japan')!.storage).toEqual({
      account: 'acsjapan.blob.core.windows.net',
      resourceId: env.STORAGE_ACCOUNT_RESOURCE_ID__JAPAN,
      status: 'notVerified',
      sharedWith: [],
      detail: "ARM did not accept the app's token (401 InvalidAuthenticationToken)",
    });
    expect([...accounts].flatMap(([, a]) => [a.storage.status, a.topic.status]).filter((s) => s !== 'notVerified')).toEqual([]);
  });

  describe('says notVerified, with the reason, for each thing it cannot read', () => {
    const edgeEnv = () => ({
      MANAGEMENT_KEY: 'm'.repeat(32),
      TELEMETRY_HASH_KEY: 't'.repeat(32),
      ENABLED_GEOGRAPHIES: 'Japan,Korea,India,Canada',
      STRICT_RESIDENCY: 'false',
      // Trailing slashes on the ARM endpoint are dropped.
      ARM_ENDPOINT: `${arm.url}//`,
      COSMOS_ENDPOINT: cosmos.endpoint,
      COSMOS_KEY: cosmos.key,
      // A Cosmos account that reports no locations (as the Cosmos DB emulator does).
      COSMOS_ENDPOINT__JAPAN: noLocation.endpoint,
      COSMOS_KEY__JAPAN: cosmos.key,
      // Korea's account is reached with a token (it has no key of its own), over plain HTTP.
      COSMOS_ENDPOINT__KOREA: tokenOnly.endpoint,
      STORAGE_ACCOUNT_URL: 'https://acsdefault.blob.core.windows.net',
      STORAGE_ACCOUNT_URL__JAPAN: 'https://acsjapannoloc.blob.core.windows.net',
      STORAGE_ACCOUNT_RESOURCE_ID__JAPAN: storageId('acs-japan', 'acsjapannoloc'),
      EVENTGRID_TOPIC_ENDPOINT__JAPAN: topicUrl('acs-japan', 'japaneast'),
      EVENTGRID_TOPIC_RESOURCE_ID__JAPAN: topicId('acs-japan', 'acs-japan-noendpoint'),
      EVENTGRID_TOPIC_ENDPOINT__CANADA: topicUrl('acs-canada', 'canadacentral'),
      EVENTGRID_TOPIC_RESOURCE_ID__CANADA: topicId('acs-canada', 'acs-canada'),
      // Korea and India have no topic: neither is taken to share one with the other.
    });

    it('an account with no locations or that cannot be read, an ARM answer with none, no topic; a topic ARM gives no usable endpoint for is judged by its location', async () => {
      const accounts = await check(credentialWithToken(TOKEN), edgeEnv());
      expect(accounts.get('japan')!.cosmos).toEqual({
        endpointHost: hostOf(noLocation.endpoint),
        readableLocations: [],
        writableLocations: [],
        status: 'notVerified',
        sharedWith: [],
        detail: 'the Cosmos account reports no locations (the Cosmos DB emulator reports none)',
      });
      // The Cosmos client refuses to send a token over plain HTTP: the read fails, and says why.
      expect(accounts.get('korea')!.cosmos).toEqual({
        endpointHost: hostOf(tokenOnly.endpoint),
        readableLocations: [],
        writableLocations: [],
        status: 'notVerified',
        sharedWith: [],
        detail: 'reading the Cosmos account failed: Bearer token authentication is not permitted for non-TLS protected (non-https) URLs.',
      });
      expect(accounts.get('japan')!.storage).toEqual({
        account: 'acsjapannoloc.blob.core.windows.net',
        resourceId: storageId('acs-japan', 'acsjapannoloc'),
        status: 'notVerified',
        sharedWith: [],
        detail: "ARM's answer for STORAGE_ACCOUNT_RESOURCE_ID__JAPAN has no location",
      });
      expect(accounts.get('japan')!.topic).toEqual({
        account: hostOf(topicUrl('acs-japan', 'japaneast')),
        resourceId: topicId('acs-japan', 'acs-japan-noendpoint'),
        location: 'japaneast',
        status: 'ok',
        sharedWith: [],
        detail: `the Event Grid topic is in japaneast, within ${region('japan')}`,
      });
      expect(accounts.get('canada')!.topic).toMatchObject({ location: 'canadacentral', status: 'ok', sharedWith: [] });
      for (const key of ['korea', 'india']) {
        expect(accounts.get(key)!.topic).toEqual({ account: null, resourceId: null, status: 'notVerified', sharedWith: [], detail: 'no Event Grid topic is configured (events wait in the outbox)' });
      }
    });

    it('names every region of a multi-region account, and an ARM failure by its status', async () => {
      const accounts = await check(credentialWithToken(TOKEN), {
        ...edgeEnv(),
        COSMOS_ENDPOINT__JAPAN: multiRegion.japan.endpoint,
        COSMOS_ENDPOINT__KOREA: multiRegion.us.endpoint,
        COSMOS_KEY__KOREA: cosmos.key,
        // India and Canada share one account, in India's regions.
        COSMOS_ENDPOINT__INDIA: multiRegion.india.endpoint,
        COSMOS_KEY__INDIA: cosmos.key,
        COSMOS_ENDPOINT__CANADA: multiRegion.india.endpoint,
        COSMOS_KEY__CANADA: cosmos.key,
        STORAGE_ACCOUNT_URL__JAPAN: 'https://acsjapanfailing.blob.core.windows.net',
        STORAGE_ACCOUNT_RESOURCE_ID__JAPAN: storageId('acs-japan', 'acsjapanfailing'),
      });
      const cosmosOf = (key: string) => accounts.get(key)!.cosmos;
      expect([cosmosOf('japan').readableLocations, cosmosOf('japan').writableLocations]).toEqual([['japaneast', 'japanwest'], ['japaneast']]);
      expect(Object.fromEntries(['japan', 'korea', 'india', 'canada'].map((key) => [key, [cosmosOf(key).status, cosmosOf(key).detail]]))).toEqual({
        japan: ['ok', `the Cosmos account is in japaneast, japanwest, within ${region('japan')}`],
        korea: ['wrongLocation', `the Cosmos account is in eastus, westus, outside ${region('korea')}`],
        india: ['shared', `the Cosmos account is in centralindia, southindia, within ${region('india')}, but is also the account of Canada`],
        canada: ['wrongLocation', `the Cosmos account is in centralindia, southindia, outside ${region('canada')}; it is also the account of India`],
      });
      expect(accounts.get('japan')!.storage).toMatchObject({ status: 'notVerified', detail: 'ARM answered 500 for STORAGE_ACCOUNT_RESOURCE_ID__JAPAN' });
    });

    it('ARM out of reach, or a credential that gives no token', async () => {
      const unreachable = await check(credentialWithToken(TOKEN), { ...edgeEnv(), ARM_ENDPOINT: 'http://127.0.0.1:9' });
      expect(unreachable.get('japan')!.storage.detail).toBe('ARM could not be reached (fetch failed)');
      expect(unreachable.get('japan')!.storage.status).toBe('notVerified');
      const none = await check({ getToken: async () => null }, edgeEnv());
      expect([none.get('japan')!.storage.detail, none.get('canada')!.topic.detail]).toEqual([
        "the app's identity has no token for ARM (the credential gave none)",
        "the app's identity has no token for ARM (the credential gave none)",
      ]);
    });
  });
});
