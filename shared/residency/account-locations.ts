import * as z from 'zod';
import { endpointsFor, STORE_SETTING_NAMES, type Settings, type StoreEndpoints } from '../config/settings.js';
import { storageAccountOf } from '../config/strict-residency.js';
import { geographyByKey, type Geography } from '../geography/geographies.js';
import type { CredentialSource } from '../stores/azure-credential.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Where each enabled geography's accounts are: its Cosmos account's readable and writable locations
 * (the database-account read, with the app's own access), and its storage account's and Event Grid
 * topic's location as ARM reports them (with the app's identity, which needs Reader on the
 * geography's resource group). Nothing the audit cannot read is passed as fine: it is 'notVerified',
 * with the reason. Regions are compared by name ("Japan East" and "japaneast" are the same region).
 *
 * - ok: every location is among the geography's regions, and no other enabled geography uses the account.
 * - wrongLocation: some location is outside the geography's regions.
 * - shared: every location is among the geography's regions, but another enabled geography uses the
 *   same account too (possible only without strict residency; since no two geographies share a
 *   region, each of the others then reports wrongLocation, or notVerified when its location is not
 *   read). `sharedWith` lists the others whatever the status.
 * - notVerified: the location could not be read (no resource id set, no token, ARM refused, the
 *   account reports no location, ...); `detail` says why.
 */
export type AccountStatus = 'ok' | 'wrongLocation' | 'shared' | 'notVerified';

export interface CosmosAccountCheck {
  endpointHost: string;
  /** Region names (lower case, no spaces) of the database-account read. */
  readableLocations: string[];
  writableLocations: string[];
  status: AccountStatus;
  /** Keys of the other enabled geographies using the same account. */
  sharedWith: string[];
  detail: string;
}

export interface ArmAccountCheck {
  /** The account as the app's settings name it (storage: host and path, or account name; topic: host); null when there is none. */
  account: string | null;
  resourceId: string | null;
  /** The region ARM reports, when it could be read. */
  location?: string;
  status: AccountStatus;
  sharedWith: string[];
  detail: string;
}

export interface GeographyAccounts {
  cosmos: CosmosAccountCheck;
  storage: ArmAccountCheck;
  topic: ArmAccountCheck;
}

/** The token audience of Azure Resource Manager (public cloud). */
export const ARM_SCOPE = 'https://management.azure.com/.default';
export const ARM_API_VERSIONS = { storage: '2023-05-01', topic: '2025-02-15' } as const;

export interface AccountLocationDeps {
  settings: Settings;
  credential: CredentialSource;
  fetch: typeof globalThis.fetch;
  /** How long one ARM read may take (default 10 s). */
  armTimeoutMs?: number;
}

/** Checks the accounts of the given geographies' stores; shared accounts are looked for among these geographies. */
export type AccountLocationCheck = (stores: GeoStore[]) => Promise<Map<string, GeographyAccounts>>;

/** "Japan East", "japan-east", "japaneast" -> "japaneast". */
export const normaliseRegion = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]/g, '');

export function accountLocationCheck(deps: AccountLocationDeps): AccountLocationCheck {
  return async (stores) => {
    const token = armToken(deps.credential);
    const accounts = new Map(stores.map((geo) => [geo.geography.key, accountsOf(deps.settings, geo.geography.key)]));
    const sharers = (key: string, kind: keyof GeographyAccountSettings) => {
      const mine = accounts.get(key)![kind].id;
      return mine === null ? [] : [...accounts].filter(([other, a]) => other !== key && a[kind].id === mine).map(([other]) => other);
    };
    const checked = await Promise.all(
      stores.map(async (geo) => {
        const key = geo.geography.key;
        const own = accounts.get(key)!;
        const [cosmos, storage, topic] = await Promise.all([
          checkCosmos(geo, own.cosmos.id ?? '', sharers(key, 'cosmos')),
          checkArm(deps, token, geo.geography, own.storage, sharers(key, 'storage')),
          checkArm(deps, token, geo.geography, own.topic, sharers(key, 'topic')),
        ]);
        return [key, { cosmos, storage, topic }] as const;
      }),
    );
    return new Map(checked);
  };
}

// ---------------------------------------------------------------------------------------------
// Which accounts a geography uses

interface ArmAccountSettings {
  kind: 'storage' | 'topic';
  /** What identifies the account (as strict residency compares them); null when none is configured. */
  id: string | null;
  resourceId: string | undefined;
  /** The setting the resource id comes from (for the messages). */
  resourceIdSetting: string;
}

interface GeographyAccountSettings {
  cosmos: { id: string | null };
  storage: ArmAccountSettings;
  topic: ArmAccountSettings;
}

/**
 * The accounts the app uses for a geography (as StoreDirectory and the publisher take them, through
 * endpointsFor), and the ARM resource id of each: the one set beside the setting the account comes
 * from (the geography's own `__<GEO>` settings, or the defaults), so a default resource id is never
 * taken for a geography's own account.
 */
function accountsOf(settings: Settings, key: string): GeographyAccountSettings {
  const own = settings.geographies[key] ?? {};
  const used = endpointsFor(settings, key);
  const levelOf = (ownSetting: keyof StoreEndpoints) =>
    own[ownSetting] !== undefined || settings.strictResidency ? { values: own, suffix: `__${key.toUpperCase()}` } : { values: settings.defaults, suffix: '' };
  // StoreDirectory takes a connection string before an account URL.
  const storageSetting = used.storageConnectionString !== undefined ? 'storageConnectionString' : 'storageAccountUrl';
  const storage = levelOf(storageSetting);
  const topic = levelOf('eventGridEndpoint');
  return {
    cosmos: { id: used.cosmosEndpoint ? hostOf(used.cosmosEndpoint) : null },
    storage: {
      kind: 'storage',
      id: storageAccountOf({ [storageSetting]: used[storageSetting] })?.account ?? null,
      resourceId: storage.values.storageAccountResourceId,
      resourceIdSetting: `${STORE_SETTING_NAMES.storageAccountResourceId}${storage.suffix}`,
    },
    topic: {
      kind: 'topic',
      id: used.eventGridEndpoint ? hostOf(used.eventGridEndpoint) : null,
      resourceId: topic.values.eventGridTopicResourceId,
      resourceIdSetting: `${STORE_SETTING_NAMES.eventGridTopicResourceId}${topic.suffix}`,
    },
  };
}

const hostOf = (url: string) => new URL(url).host.toLowerCase();

// ---------------------------------------------------------------------------------------------
// Cosmos: the database-account read

async function checkCosmos(geo: GeoStore, endpointHost: string, sharedWith: string[]): Promise<CosmosAccountCheck> {
  const base = { endpointHost, sharedWith };
  let readable: string[];
  let writable: string[];
  try {
    const { resource } = await (await geo.existingDatabase()).client.getDatabaseAccount();
    readable = (resource?.readableLocations ?? []).map((l) => normaliseRegion(l.name));
    writable = (resource?.writableLocations ?? []).map((l) => normaliseRegion(l.name));
  } catch (error) {
    return { ...base, readableLocations: [], writableLocations: [], status: 'notVerified', detail: `reading the Cosmos account failed: ${messageOf(error)}${sharedNote(sharedWith)}` };
  }
  const found = { readableLocations: readable, writableLocations: writable };
  if (readable.length + writable.length === 0) {
    return { ...base, ...found, status: 'notVerified', detail: `the Cosmos account reports no locations (the Cosmos DB emulator reports none)${sharedNote(sharedWith)}` };
  }
  return { ...base, ...found, ...placement(geo.geography, [...readable, ...writable], sharedWith, 'the Cosmos account') };
}

// ---------------------------------------------------------------------------------------------
// Storage account and topic: ARM

const RESOURCE_ID = {
  storage: {
    pattern: /^\/subscriptions\/[^/?#\s]+\/resourceGroups\/[^/?#\s]+\/providers\/Microsoft\.Storage\/storageAccounts\/([^/?#\s]+)$/i,
    provider: 'Microsoft.Storage/storageAccounts',
    what: 'storage account',
    a: 'a storage account',
  },
  topic: {
    pattern: /^\/subscriptions\/[^/?#\s]+\/resourceGroups\/[^/?#\s]+\/providers\/Microsoft\.EventGrid\/topics\/([^/?#\s]+)$/i,
    provider: 'Microsoft.EventGrid/topics',
    what: 'Event Grid topic',
    a: 'an Event Grid topic',
  },
} as const;

/** What the audit reads of an ARM resource (other fields are ignored). */
const armResource = z.object({
  location: z.string().min(1),
  properties: z.object({ endpoint: z.string().optional() }).optional(),
});
const armError = z.object({ error: z.object({ code: z.string() }) });

type TokenResult = { token: string } | { error: string };

/** One token for ARM per audit, asked for only when some resource id is set. */
function armToken(credential: CredentialSource): () => Promise<TokenResult> {
  let pending: Promise<TokenResult> | undefined;
  return () =>
    (pending ??= credential()
      .then((c) => c.getToken(ARM_SCOPE))
      .then(
        (token): TokenResult => (token ? { token: token.token } : { error: 'the credential gave none' }),
        (error: unknown): TokenResult => ({ error: messageOf(error) }),
      ));
}

async function checkArm(deps: AccountLocationDeps, token: () => Promise<TokenResult>, geography: Geography, account: ArmAccountSettings, sharedWith: string[]): Promise<ArmAccountCheck> {
  const { pattern, provider, what, a } = RESOURCE_ID[account.kind];
  const base = { account: account.id, resourceId: account.resourceId ?? null, sharedWith };
  const notVerified = (reason: string): ArmAccountCheck => ({ ...base, status: 'notVerified', detail: `${reason}${sharedNote(sharedWith)}` });
  if (account.id === null) return notVerified(account.kind === 'topic' ? 'no Event Grid topic is configured (events wait in the outbox)' : 'no storage account is configured');
  if (account.resourceId === undefined) return notVerified(`${account.resourceIdSetting} is not set, so the ${what}'s location is not read from ARM`);
  const name = pattern.exec(account.resourceId)?.[1];
  if (name === undefined) return notVerified(`${account.resourceIdSetting} is not the resource id of ${a} (/subscriptions/<id>/resourceGroups/<group>/providers/${provider}/<name>)`);
  if (account.kind === 'storage') {
    const used = storageAccountName(account.id);
    if (used !== name.toLowerCase()) return notVerified(`${account.resourceIdSetting} names the storage account '${name}', but the app uses '${used}'`);
  }

  const granted = await token();
  if ('error' in granted) return notVerified(`the app's identity has no token for ARM (${granted.error})`);
  const url = `${deps.settings.armEndpoint.replace(/\/+$/, '')}${account.resourceId}?api-version=${ARM_API_VERSIONS[account.kind]}`;
  let response: Response;
  let body: unknown;
  try {
    response = await deps.fetch(url, { headers: { authorization: `Bearer ${granted.token}`, accept: 'application/json' }, signal: AbortSignal.timeout(deps.armTimeoutMs ?? 10_000) });
    body = await response.json().catch(() => undefined);
  } catch (error) {
    return notVerified(`ARM could not be reached (${messageOf(error)})`);
  }
  const code = armError.safeParse(body);
  const answered = `${response.status}${code.success ? ` ${code.data.error.code}` : ''}`;
  if (response.status === 401) return notVerified(`ARM did not accept the app's token (${answered})`);
  if (response.status === 403) return notVerified(`ARM refused the app's identity (${answered}): it needs the Reader role on the ${what}'s resource group`);
  if (!response.ok) return notVerified(`ARM answered ${answered} for ${account.resourceIdSetting}`);
  const resource = armResource.safeParse(body);
  if (!resource.success) return notVerified(`ARM's answer for ${account.resourceIdSetting} has no location`);
  const armEndpoint = resource.data.properties?.endpoint;
  if (account.kind === 'topic' && armEndpoint !== undefined && URL.canParse(armEndpoint) && hostOf(armEndpoint) !== account.id) {
    return notVerified(`${account.resourceIdSetting} names the topic at ${hostOf(armEndpoint)}, but the app publishes to ${account.id}`);
  }
  const location = normaliseRegion(resource.data.location);
  return { ...base, location, ...placement(geography, [location], sharedWith, `the ${what}`) };
}

/** The account name in a storage account's identity: the path's first segment (path-style emulator URLs) or the host's first label. */
const storageAccountName = (id: string) => (id.includes('/') ? id.split('/')[1]! : id.split('.')[0]!);

// ---------------------------------------------------------------------------------------------

/** ok, shared or wrongLocation for read locations, with the detail in words. */
function placement(geography: Geography, locations: string[], sharedWith: string[], what: string): { status: AccountStatus; detail: string } {
  const found = [...new Set(locations)];
  const outside = found.filter((region) => !geography.regions.includes(region));
  const regions = `${geography.name}'s regions (${geography.regions.join(', ')})`;
  if (outside.length > 0) return { status: 'wrongLocation', detail: `${what} is in ${outside.join(', ')}, outside ${regions}${sharedNote(sharedWith)}` };
  if (sharedWith.length > 0) return { status: 'shared', detail: `${what} is in ${found.join(', ')}, within ${regions}, but is also the account of ${namesOf(sharedWith)}` };
  return { status: 'ok', detail: `${what} is in ${found.join(', ')}, within ${regions}` };
}

const namesOf = (keys: string[]) => keys.map((key) => geographyByKey(key).name).join(', ');
const sharedNote = (sharedWith: string[]) => (sharedWith.length > 0 ? `; it is also the account of ${namesOf(sharedWith)}` : '');

/** An error's message, first line only (credential chains report one line per credential tried). */
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
