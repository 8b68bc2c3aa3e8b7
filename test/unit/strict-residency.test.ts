import { describe, expect, it } from 'vitest';
import { endpointsFor, parseSettings, SettingsError } from '../../shared/config/settings.js';
import { GEOGRAPHIES } from '../../shared/geography/geographies.js';

const base = {
  MANAGEMENT_KEY: 'm'.repeat(32),
  TELEMETRY_HASH_KEY: 't'.repeat(32),
  COSMOS_ENDPOINT: 'https://control.documents.azure.com:443/',
};

/** The own accounts of a geography, as the infrastructure sets them (keyless: no keys). */
const own = (geo: string, overrides: Record<string, string> = {}) => ({
  [`COSMOS_ENDPOINT__${geo}`]: `https://acs-${geo.toLowerCase()}.documents.azure.com:443/`,
  [`STORAGE_ACCOUNT_URL__${geo}`]: `https://acs${geo.toLowerCase()}.blob.core.windows.net`,
  [`EVENTGRID_TOPIC_ENDPOINT__${geo}`]: `https://acs-${geo.toLowerCase()}.japaneast-1.eventgrid.azure.net/api/events`,
  ...overrides,
});

const strict = { ...base, STRICT_RESIDENCY: 'true', ENABLED_GEOGRAPHIES: 'Europe, Japan' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseSettings(env);
  } catch (error) {
    if (error instanceof SettingsError) return error.problems;
    throw error;
  }
  return [];
}

describe('enabled geographies', () => {
  it('are all 16 unless ENABLED_GEOGRAPHIES names some, by name or key, in any case, once each', () => {
    expect(parseSettings({ ...base, STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' }).enabledGeographies).toEqual(GEOGRAPHIES.map((g) => g.key));
    const settings = parseSettings({ ...base, STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', ENABLED_GEOGRAPHIES: 'united states, japan,,EUROPE, Japan' });
    expect(settings.enabledGeographies).toEqual(['unitedstates', 'japan', 'europe']);
  });

  it('refuses an unknown geography, naming it and the valid names', () => {
    const problems = problemsOf({ ...base, STORAGE_CONNECTION_STRING: 'x', ENABLED_GEOGRAPHIES: 'Europe, Atlantis' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ENABLED_GEOGRAPHIES: 'Atlantis' is not a geography \(one of Africa, Asia Pacific, .*United States\)$/);
    expect(problemsOf({ ...base, STORAGE_CONNECTION_STRING: 'x', ENABLED_GEOGRAPHIES: ' , ' })).toEqual(['ENABLED_GEOGRAPHIES must list at least one geography']);
  });
});

describe('strict residency', () => {
  it('is on in Azure (WEBSITE_INSTANCE_ID) unless turned off, and off elsewhere unless turned on; so is store verification', () => {
    const local = parseSettings({ ...base, STORAGE_CONNECTION_STRING: 'x' });
    expect([local.strictResidency, local.storeProvisioning]).toEqual([false, 'create']);
    const azure = parseSettings({ ...base, ...own('EUROPE'), ENABLED_GEOGRAPHIES: 'Europe', WEBSITE_INSTANCE_ID: 'abc' });
    expect([azure.strictResidency, azure.storeProvisioning]).toEqual([true, 'verify']);
    const relaxed = parseSettings({ ...base, STORAGE_CONNECTION_STRING: 'x', WEBSITE_INSTANCE_ID: 'abc', STRICT_RESIDENCY: 'false', STORE_PROVISIONING: 'create' });
    expect([relaxed.strictResidency, relaxed.storeProvisioning]).toEqual([false, 'create']);
    expect(problemsOf({ ...base, STORAGE_CONNECTION_STRING: 'x', STRICT_RESIDENCY: 'yes' })).toEqual(['STRICT_RESIDENCY must be true or false']);
  });

  it('starts when every enabled geography has its own accounts, and never falls back to the defaults', () => {
    const settings = parseSettings({ ...strict, STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', EVENTGRID_TOPIC_ENDPOINT: 'https://default.eventgrid.azure.net/api/events', ...own('EUROPE'), ...own('JAPAN') });
    expect(endpointsFor(settings, 'japan')).toEqual({
      cosmosEndpoint: 'https://acs-japan.documents.azure.com:443/',
      storageAccountUrl: 'https://acsjapan.blob.core.windows.net',
      eventGridEndpoint: 'https://acs-japan.japaneast-1.eventgrid.azure.net/api/events',
    });
    // A disabled geography has nothing: not the default account either.
    expect(endpointsFor(settings, 'france')).toEqual({});
  });

  it.each([
    ['Cosmos DB', 'COSMOS_ENDPOINT__JAPAN', 'COSMOS_ENDPOINT__JAPAN'],
    ['storage', 'STORAGE_ACCOUNT_URL__JAPAN', 'STORAGE_ACCOUNT_URL__JAPAN (or STORAGE_CONNECTION_STRING__JAPAN)'],
    ['Event Grid', 'EVENTGRID_TOPIC_ENDPOINT__JAPAN', 'EVENTGRID_TOPIC_ENDPOINT__JAPAN'],
  ])('refuses to start when a geography lacks its own %s account, naming the setting', (_kind, missing, named) => {
    const env: Record<string, string> = { ...strict, STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', EVENTGRID_TOPIC_ENDPOINT: 'https://d.eventgrid.azure.net/api/events', ...own('EUROPE'), ...own('JAPAN') };
    delete env[missing];
    expect(problemsOf(env)).toEqual([`STRICT_RESIDENCY: Japan has no account of its own: set ${named}`]);
  });

  it('names every missing setting of every geography at once', () => {
    expect(problemsOf({ ...strict, ENABLED_GEOGRAPHIES: 'Europe, Japan, Brazil', ...own('JAPAN') })).toEqual([
      'STRICT_RESIDENCY: Europe has no account of its own: set COSMOS_ENDPOINT__EUROPE, STORAGE_ACCOUNT_URL__EUROPE (or STORAGE_CONNECTION_STRING__EUROPE), EVENTGRID_TOPIC_ENDPOINT__EUROPE',
      'STRICT_RESIDENCY: Brazil has no account of its own: set COSMOS_ENDPOINT__BRAZIL, STORAGE_ACCOUNT_URL__BRAZIL (or STORAGE_CONNECTION_STRING__BRAZIL), EVENTGRID_TOPIC_ENDPOINT__BRAZIL',
    ]);
  });

  it.each([
    ['Cosmos DB', { COSMOS_ENDPOINT__JAPAN: 'https://ACS-EUROPE.documents.azure.com:443/' }, 'COSMOS_ENDPOINT__EUROPE and COSMOS_ENDPOINT__JAPAN name the same cosmos account (acs-europe.documents.azure.com)'],
    ['storage (URLs)', { STORAGE_ACCOUNT_URL__JAPAN: 'https://acseurope.blob.core.windows.net/' }, 'STORAGE_ACCOUNT_URL__EUROPE and STORAGE_ACCOUNT_URL__JAPAN name the same storage account (acseurope.blob.core.windows.net)'],
    ['Event Grid', { EVENTGRID_TOPIC_ENDPOINT__JAPAN: 'https://acs-europe.japaneast-1.eventgrid.azure.net/api/events' }, 'EVENTGRID_TOPIC_ENDPOINT__EUROPE and EVENTGRID_TOPIC_ENDPOINT__JAPAN name the same topic account (acs-europe.japaneast-1.eventgrid.azure.net)'],
  ])('refuses to start when two geographies share a %s account, naming both settings', (_kind, overrides, message) => {
    expect(problemsOf({ ...strict, ...own('EUROPE'), ...own('JAPAN', overrides) })).toEqual([`STRICT_RESIDENCY: ${message}; each geography needs its own`]);
  });

  it('recognises one storage account behind a URL and a connection string, and emulator accounts by path', () => {
    const shared = own('JAPAN', { STORAGE_ACCOUNT_URL__JAPAN: '' });
    delete shared.STORAGE_ACCOUNT_URL__JAPAN;
    const viaConnection = { ...shared, STORAGE_CONNECTION_STRING__JAPAN: 'DefaultEndpointsProtocol=https;AccountName=acseurope;AccountKey=a2V5;BlobEndpoint=https://acseurope.blob.core.windows.net/' };
    expect(problemsOf({ ...strict, ...own('EUROPE'), ...viaConnection })).toEqual([
      'STRICT_RESIDENCY: STORAGE_ACCOUNT_URL__EUROPE and STORAGE_CONNECTION_STRING__JAPAN name the same storage account (acseurope.blob.core.windows.net); each geography needs its own',
    ]);
    // Two emulator accounts on one host differ by path: not shared.
    const emulator = (account: string) => `http://127.0.0.1:10000/${account}`;
    expect(problemsOf({ ...strict, ...own('EUROPE', { STORAGE_ACCOUNT_URL__EUROPE: emulator('eu') }), ...own('JAPAN', { STORAGE_ACCOUNT_URL__JAPAN: emulator('jp') }) })).toEqual([]);
  });

  it('without strict residency, a geography without its own uses the defaults, and some storage account must be named', () => {
    const settings = parseSettings({ ...base, STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', ...own('JAPAN') });
    expect(endpointsFor(settings, 'france').cosmosEndpoint).toBe(base.COSMOS_ENDPOINT);
    expect(endpointsFor(settings, 'france').storageConnectionString).toBe('UseDevelopmentStorage=true');
    // A geography naming its own account takes nothing of the default one: no default key, connection string or resource id.
    const keyed = parseSettings({ ...base, COSMOS_KEY: 'default-key', STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', STORAGE_ACCOUNT_RESOURCE_ID: '/subscriptions/s/x', EVENTGRID_TOPIC_ENDPOINT: 'https://default.eventgrid.azure.net/api/events', EVENTGRID_TOPIC_KEY: 'k', ...own('JAPAN') });
    expect(endpointsFor(keyed, 'japan')).toEqual({
      cosmosEndpoint: 'https://acs-japan.documents.azure.com:443/',
      storageAccountUrl: 'https://acsjapan.blob.core.windows.net',
      eventGridEndpoint: 'https://acs-japan.japaneast-1.eventgrid.azure.net/api/events',
    });
    expect(endpointsFor(keyed, 'korea')).toEqual({
      cosmosEndpoint: base.COSMOS_ENDPOINT,
      cosmosKey: 'default-key',
      storageConnectionString: 'UseDevelopmentStorage=true',
      storageAccountResourceId: '/subscriptions/s/x',
      eventGridEndpoint: 'https://default.eventgrid.azure.net/api/events',
      eventGridKey: 'k',
    });
    expect(problemsOf({ ...base, ENABLED_GEOGRAPHIES: 'Japan', ...own('JAPAN') })).toEqual([]);
    expect(problemsOf({ ...base, ENABLED_GEOGRAPHIES: 'Japan, Korea', ...own('JAPAN') })).toEqual([
      'STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL is required (used by Korea, which have no STORAGE_ACCOUNT_URL__<GEO> of their own)',
    ]);
  });
});
