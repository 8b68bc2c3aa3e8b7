import { connectionStringParts } from './connection-string.js';
import { findGeography, GEOGRAPHIES, geographyByKey } from '../geography/geographies.js';
import { endpointsFor, STORE_SETTING_NAMES, type Settings, type StoreEndpoints } from './settings.js';

/**
 * The residency boundary as settings: which geographies are enabled, and (in strict residency) that
 * every enabled geography has accounts of its own, shared with no other geography. Strict residency is
 * on by default whenever the app runs in Azure; the app refuses to start while any of this is wrong,
 * naming every setting to fix.
 */

/** ENABLED_GEOGRAPHIES: a comma-separated list of geography names or keys; all 16 when unset. */
export function parseEnabledGeographies(value: string | undefined): { keys: string[]; problems: string[] } {
  if (value === undefined) return { keys: GEOGRAPHIES.map((g) => g.key), problems: [] };
  const keys: string[] = [];
  const problems: string[] = [];
  for (const entry of value.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const geography = findGeography(entry);
    if (!geography) problems.push(`ENABLED_GEOGRAPHIES: '${entry}' is not a geography (one of ${GEOGRAPHIES.map((g) => g.name).join(', ')})`);
    else if (!keys.includes(geography.key)) keys.push(geography.key);
  }
  if (keys.length === 0 && problems.length === 0) problems.push('ENABLED_GEOGRAPHIES must list at least one geography');
  return { keys, problems };
}

/** STRICT_RESIDENCY: true or false; unset means on in Azure, off elsewhere. */
export function parseStrictResidency(value: string | undefined, inAzure: boolean): { value: boolean; problems: string[] } {
  if (value === undefined) return { value: inAzure, problems: [] };
  const normalised = value.trim().toLowerCase();
  if (['true', '1'].includes(normalised)) return { value: true, problems: [] };
  if (['false', '0'].includes(normalised)) return { value: false, problems: [] };
  return { value: inAzure, problems: ['STRICT_RESIDENCY must be true or false'] };
}

const suffixed = (field: keyof StoreEndpoints, geographyKey: string) => `${STORE_SETTING_NAMES[field]}__${geographyKey.toUpperCase()}`;

/** Every problem of the store settings of the enabled geographies (empty when the app may start). */
export function residencyProblems(settings: Settings): string[] {
  return settings.strictResidency ? strictProblems(settings) : fallbackProblems(settings);
}

/** Without strict residency, a geography may use the defaults, but some storage account must be named. */
function fallbackProblems(settings: Settings): string[] {
  const withoutStorage = settings.enabledGeographies.filter((key) => !hasStorage(endpointsFor(settings, key)));
  if (withoutStorage.length === 0) return [];
  const names = withoutStorage.map((key) => geographyByKey(key).name).join(', ');
  return [`STORAGE_CONNECTION_STRING or STORAGE_ACCOUNT_URL is required (used by ${names}, which have no STORAGE_ACCOUNT_URL__<GEO> of their own)`];
}

function strictProblems(settings: Settings): string[] {
  const problems: string[] = [];
  const owners = { cosmos: new Map<string, string[]>(), storage: new Map<string, string[]>(), topic: new Map<string, string[]>() };
  for (const key of settings.enabledGeographies) {
    const own = settings.geographies[key] ?? {};
    const name = geographyByKey(key).name;
    const missing: string[] = [];
    if (!own.cosmosEndpoint) missing.push(suffixed('cosmosEndpoint', key));
    if (!hasStorage(own)) missing.push(`${suffixed('storageAccountUrl', key)} (or ${suffixed('storageConnectionString', key)})`);
    if (!own.eventGridEndpoint) missing.push(suffixed('eventGridEndpoint', key));
    if (missing.length > 0) problems.push(`STRICT_RESIDENCY: ${name} has no account of its own: set ${missing.join(', ')}`);
    if (own.cosmosEndpoint) addOwner(owners.cosmos, hostOf(own.cosmosEndpoint), suffixed('cosmosEndpoint', key));
    const storage = storageAccountOf(own);
    if (storage) addOwner(owners.storage, storage.account, storage.setting(key));
    if (own.eventGridEndpoint) addOwner(owners.topic, hostOf(own.eventGridEndpoint), suffixed('eventGridEndpoint', key));
  }
  for (const [kind, byAccount] of Object.entries(owners)) {
    for (const [account, settingNames] of byAccount) {
      if (settingNames.length > 1) problems.push(`STRICT_RESIDENCY: ${settingNames.join(' and ')} name the same ${kind} account (${account}); each geography needs its own`);
    }
  }
  return problems;
}

const hasStorage = (endpoints: Partial<StoreEndpoints>) => endpoints.storageAccountUrl !== undefined || endpoints.storageConnectionString !== undefined;

function addOwner(owners: Map<string, string[]>, account: string, setting: string): void {
  owners.set(account, [...(owners.get(account) ?? []), setting]);
}

/** Host (and port) of a URL, lower case: what identifies a Cosmos account or a topic. */
const hostOf = (url: string) => new URL(url).host.toLowerCase();

/**
 * What identifies a storage account: the blob endpoint's host and path (path-style emulator URLs put
 * the account name in the path), or the connection string's account name.
 */
export function storageAccountOf(endpoints: Partial<StoreEndpoints>): { account: string; setting: (key: string) => string } | undefined {
  if (endpoints.storageAccountUrl) {
    const url = new URL(endpoints.storageAccountUrl);
    return { account: `${url.host}${url.pathname}`.replace(/\/+$/, '').toLowerCase(), setting: (key) => suffixed('storageAccountUrl', key) };
  }
  const connection = endpoints.storageConnectionString;
  if (!connection) return undefined;
  const parts = connectionStringParts(connection);
  const blobEndpoint = parts.get('blobendpoint');
  const account = blobEndpoint && URL.canParse(blobEndpoint) ? `${new URL(blobEndpoint).host}${new URL(blobEndpoint).pathname}` : (parts.get('accountname') ?? connection);
  return { account: account.replace(/\/+$/, '').toLowerCase(), setting: (key) => suffixed('storageConnectionString', key) };
}
