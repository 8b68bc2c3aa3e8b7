import * as z from 'zod';
import { GEOGRAPHIES } from '../geography/geographies.js';
import { parseEmailSettings, type EmailSettings } from '../email/email-settings.js';
import { parseEnabledGeographies, parseStrictResidency, residencyProblems } from './strict-residency.js';
import { parseSmsCarriers, smsTuningSchema, type SmsCarriers } from './sms-settings.js';
import { parseWhatsAppSettings, type WhatsAppSettings } from './whatsapp-settings.js';

/**
 * App settings, parsed once at start-up from the environment (Azure app settings, or the Values of
 * local.settings.json that the development host loads). Per-geography settings use the suffix
 * `__<GEOKEY>` (e.g. `COSMOS_ENDPOINT__JAPAN`). Without strict residency a geography without its own
 * falls back to the default account and gets its own database / containers there; in strict
 * residency (always in Azure) it never does (shared/config/strict-residency.ts).
 */
const secret = (name: string, min: number) =>
  z.string({ error: `${name} is required` }).min(min, `${name} must be at least ${min} characters`);

const bool = (name: string) =>
  z.enum(['true', 'false', '1', '0'], { error: `${name} must be true or false` }).transform((v) => v === 'true' || v === '1');

const positiveInt = (name: string) => z.coerce.number({ error: `${name} must be a positive whole number` }).int(`${name} must be a positive whole number`).positive(`${name} must be a positive whole number`);
const intBetween = (name: string, min: number, max: number) =>
  z.coerce.number({ error: `${name} must be a whole number from ${min} to ${max}` }).int().min(min, `${name} must be at least ${min}`).max(max, `${name} must be at most ${max}`);

/** A comma-separated list of values (blanks between commas ignored), each checked by `item`. */
const commaList = (name: string, item: z.ZodType<string, string>) =>
  z
    .string()
    .transform((value) => value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== ''))
    .pipe(z.array(item).min(1, `${name} must list at least one value`));

const isLoopbackHost = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

/** Where the Teams token exchange fetches Microsoft Entra ID's signing keys: https, or http to a loopback address (tests). */
const jwksUrl = z
  .url({ error: 'TEAMS_TOKEN_JWKS_URL must be a URL' })
  .refine((value) => {
    if (!URL.canParse(value)) return true; // reported by z.url
    const url = new URL(value);
    return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
  }, 'TEAMS_TOKEN_JWKS_URL must be an https URL (http only to a loopback address)');

/** An accepted issuer of Entra ID tokens: a URL once `{tenantid}` is replaced by a tenant id. */
const issuerTemplate = z.string().refine((value) => URL.canParse(value.replaceAll('{tenantid}', '00000000-0000-0000-0000-000000000000')), {
  error: (issue) => `TEAMS_TOKEN_ISSUERS entry '${String(issue.input)}' is not a URL (write {tenantid} where the tenant id goes)`,
});

/**
 * The stores of a geography (or the defaults). A missing key or connection string means keyless
 * access with a Microsoft Entra token (shared/stores/azure-credential.ts).
 */
export const storeEndpointsSchema = z.object({
  cosmosEndpoint: z.url({ error: 'COSMOS_ENDPOINT must be a URL' }),
  /** Absent: Entra token (data-plane RBAC). */
  cosmosKey: z.string().min(1).optional(),
  /** A connection string (emulators, keys) or, for keyless access, the account's blob URL. */
  storageConnectionString: z.string().min(1).optional(),
  storageAccountUrl: z.url({ error: 'STORAGE_ACCOUNT_URL must be a URL' }).optional(),
  eventGridEndpoint: z.url({ error: 'EVENTGRID_TOPIC_ENDPOINT must be a URL' }).optional(),
  /** Absent: Entra token (EventGrid Data Sender role). */
  eventGridKey: z.string().min(1).optional(),
  /** ARM ids the residency audit reads the storage account's and topic's location from (optional). */
  storageAccountResourceId: z.string().min(1).optional(),
  eventGridTopicResourceId: z.string().min(1).optional(),
});
export type StoreEndpoints = z.infer<typeof storeEndpointsSchema>;
export const STORE_SETTING_NAMES: Record<keyof StoreEndpoints, string> = {
  cosmosEndpoint: 'COSMOS_ENDPOINT',
  cosmosKey: 'COSMOS_KEY',
  storageConnectionString: 'STORAGE_CONNECTION_STRING',
  storageAccountUrl: 'STORAGE_ACCOUNT_URL',
  eventGridEndpoint: 'EVENTGRID_TOPIC_ENDPOINT',
  eventGridKey: 'EVENTGRID_TOPIC_KEY',
  storageAccountResourceId: 'STORAGE_ACCOUNT_RESOURCE_ID',
  eventGridTopicResourceId: 'EVENTGRID_TOPIC_RESOURCE_ID',
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const settingsSchema = z.object({
  managementKey: secret('MANAGEMENT_KEY', 32),
  /**
   * Who may use the management API through App Service Authentication (Easy Auth, Microsoft Entra
   * ID) instead of the key: Entra object ids (MANAGEMENT_PRINCIPALS) and app roles
   * (MANAGEMENT_APP_ROLES). Both empty: the X-MS-CLIENT-PRINCIPAL header is ignored (shared/auth/management-caller.ts).
   */
  managementPrincipals: z.object({
    objectIds: commaList('MANAGEMENT_PRINCIPALS', z.string().trim().regex(GUID, 'MANAGEMENT_PRINCIPALS must list Microsoft Entra object ids (GUIDs)').transform((v) => v.toLowerCase())).default([]),
    appRoles: commaList('MANAGEMENT_APP_ROLES', z.string().regex(/^[^\s,]{1,120}$/, 'MANAGEMENT_APP_ROLES must list app role values without spaces')).default([]),
  }),
  telemetryHashKey: secret('TELEMETRY_HASH_KEY', 32),
  publicBaseUrl: z.url({ error: 'PUBLIC_BASE_URL must be a URL' }).optional(),
  controlDatabase: z.string().min(1).default('acs-control'),
  /** Databases and containers of a geography are named with this prefix plus the geography key. */
  geoStorePrefix: z.string().regex(/^[a-z][a-z0-9-]{0,20}$/, 'GEO_STORE_PREFIX must be 1-21 lower-case letters, digits or hyphens, starting with a letter').default('acs'),
  cosmosAllowSelfSigned: bool('COSMOS_ALLOW_SELF_SIGNED').default(false),
  eventSchema: z.enum(['CloudEvents', 'EventGrid'], { error: 'EVENTGRID_SCHEMA must be CloudEvents or EventGrid' }).default('CloudEvents'),
  maxRequestBodyBytes: positiveInt('MAX_REQUEST_BODY_BYTES').default(1_048_576),
  outboxPublishTimeoutMs: positiveInt('OUTBOX_PUBLISH_TIMEOUT_MS').default(5_000),
  /** How long the publication mark of a chat send or a purged thread waits for the next change of its entry's partition (the resource's, or the thread's for a send) before it is written alone. */
  outboxMarkDelayMs: intBetween('OUTBOX_MARK_DELAY_MS', 1, 60_000).default(100),
  outboxRetentionHours: positiveInt('OUTBOX_RETENTION_HOURS').default(24),
  /** How long the first purge work item of a run settling on an instance waits for others to count with it (shared/retention/run-count-groups.ts). */
  purgeCountWindowMs: intBetween('PURGE_COUNT_WINDOW_MS', 0, 1_000).default(50),
  logLevel: z.enum(['debug', 'info', 'warn', 'error'], { error: 'LOG_LEVEL must be debug, info, warn or error' }).default('info'),
  tokenKeyRotationDays: intBetween('TOKEN_KEY_ROTATION_DAYS', 1, 365).default(30),
  tokenRevocationCacheMs: intBetween('TOKEN_REVOCATION_CACHE_MS', 0, 60_000).default(0),
  /** How long an instance may take an active resource from its cache for user-token requests (0: never). */
  resourceCacheMs: intBetween('RESOURCE_CACHE_MS', 0, 60_000).default(5_000),
  tokenIssuer: z.string().min(1).default('acs-residency'),
  rateLimitWindowSeconds: positiveInt('RATE_LIMIT_WINDOW_SECONDS').default(30),
  rateLimitIdentityCreate: positiveInt('RATE_LIMIT_IDENTITY_CREATE').default(1000),
  rateLimitIdentityDelete: positiveInt('RATE_LIMIT_IDENTITY_DELETE').default(500),
  /** Scales every ACS chat rate limit (shared/chat/chat-throttle.ts); 0 turns chat throttling off. */
  chatRateLimitFactor: z.coerce
    .number({ error: 'CHAT_RATE_LIMIT_FACTOR must be a number' })
    .min(0, 'CHAT_RATE_LIMIT_FACTOR must be 0 (off) or more')
    .max(1000, 'CHAT_RATE_LIMIT_FACTOR must be at most 1000')
    .default(1),
  recordingMaxBytes: positiveInt('RECORDING_MAX_BYTES').default(10 * 1024 ** 3),
  recordingBlockBytes: intBetween('RECORDING_UPLOAD_BLOCK_BYTES', 1024 * 1024, 100 * 1024 * 1024).default(8 * 1024 * 1024),
  recordingUploadConcurrency: intBetween('RECORDING_UPLOAD_CONCURRENCY', 1, 16).default(4),
  /** Bytes per Put Block From URL of the landing copy (the service allows up to 4000 MiB a block). */
  recordingCopyBlockBytes: intBetween('RECORDING_COPY_BLOCK_BYTES', 1024 * 1024, 4000 * 1024 * 1024).default(100 * 1024 * 1024),
  /** How long one privacy work item may work on a request (its lease is this plus a minute). */
  privacyWorkerMaxSeconds: intBetween('PRIVACY_WORKER_MAX_SECONDS', 10, 3600).default(240),
  /** Steps (one page of one store each) one privacy work item takes before it hands the request on. */
  privacyStepsPerItem: intBetween('PRIVACY_STEPS_PER_ITEM', 1, 1000).default(20),
  privacyPageSize: intBetween('PRIVACY_PAGE_SIZE', 10, 1000).default(200),
  /** Teams token exchange: Microsoft Entra ID's signing keys, accepted issuers and audiences, and its rate limit. */
  teamsTokenJwksUrl: jwksUrl.default('https://login.microsoftonline.com/common/discovery/v2.0/keys'),
  teamsTokenIssuers: commaList('TEAMS_TOKEN_ISSUERS', issuerTemplate).default(['https://login.microsoftonline.com/{tenantid}/v2.0', 'https://sts.windows.net/{tenantid}/']),
  teamsTokenAudiences: commaList('TEAMS_TOKEN_AUDIENCE', z.string()).default(['https://auth.msft.communication.azure.com']),
  rateLimitTeamsTokenExchange: positiveInt('RATE_LIMIT_TEAMS_TOKEN_EXCHANGE').default(500),
  /**
   * The Functions host's own storage account (AzureWebJobsStorage), where the work queues are: a
   * connection string (emulator, keys) or, keyless, its queue endpoint (AzureWebJobsStorage__queueServiceUri,
   * or __accountName for the public cloud's). Not a geography's account: work items carry opaque ids only.
   */
  hostStorage: z.object({
    connectionString: z.string().min(1).optional(),
    queueServiceUri: z.url({ error: 'AzureWebJobsStorage__queueServiceUri must be a URL' }).optional(),
  }),
  /** The user-assigned managed identity's client id (AZURE_CLIENT_ID); absent: DefaultAzureCredential's chain. */
  azureClientId: z.string().min(1).optional(),
  /** ARM, where the residency audit reads account locations (ARM_ENDPOINT). */
  armEndpoint: z.url({ error: 'ARM_ENDPOINT must be a URL' }).default('https://management.azure.com'),
  /** Geographies resources may be created in (keys); all 16 unless ENABLED_GEOGRAPHIES says otherwise. */
  enabledGeographies: z.array(z.string()),
  /** create: the app creates its databases and containers (emulators); verify: they must exist (Azure, data-plane RBAC). */
  storeProvisioning: z.enum(['create', 'verify'], { error: 'STORE_PROVISIONING must be create or verify' }),
  /** Every enabled geography must have its own accounts, shared with no other; no fallback to the defaults. */
  strictResidency: z.boolean(),
  /** The defaults: COSMOS_ENDPOINT is always required (the control database lives there). */
  defaults: storeEndpointsSchema,
  /** Per-geography overrides, keyed by geography key; only the fields that are set. */
  geographies: z.record(z.string(), storeEndpointsSchema.partial()),
  /** SMS carriers (SMPP) by geography and carrier name (shared/config/sms-settings.ts); parsed beside this schema. */
  smsCarriers: z.custom<SmsCarriers>(),
  /** The SMPP links' timing (SMPP_ENQUIRE_LINK_SECONDS, SMPP_RECONNECT_MAX_SECONDS, SMPP_RESPONSE_TIMEOUT_MS, SMPP_WINDOW). */
  sms: smsTuningSchema,
  /** E-mail: each geography's SMTP relay, periods and retries (shared/email/email-settings.ts); parsed beside this schema. */
  email: z.custom<EmailSettings>(),
  /** Advanced Messaging for WhatsApp: the Graph API's base URL (per geography), timeouts, webhook dedupe (shared/config/whatsapp-settings.ts). */
  whatsApp: z.custom<WhatsAppSettings>(),
});

export type Settings = z.infer<typeof settingsSchema>;

type Env = Record<string, string | undefined>;

const blankToUndefined = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : value);

/** In Azure App Service / Functions, WEBSITE_INSTANCE_ID is always set. */
export const runsInAzure = (env: Env) => blankToUndefined(env.WEBSITE_INSTANCE_ID) !== undefined;

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n  - ${problems.join('\n  - ')}`);
    this.name = 'SettingsError';
  }
}

/** Parses the settings from an environment; throws SettingsError listing every problem. */
export function parseSettings(env: Env): Settings {
  const get = (name: string) => blankToUndefined(env[name]);
  const enabled = parseEnabledGeographies(get('ENABLED_GEOGRAPHIES'));
  const strict = parseStrictResidency(get('STRICT_RESIDENCY'), runsInAzure(env));
  const sms = parseSmsCarriers(env);
  const email = parseEmailSettings(env, { enabledGeographies: enabled.keys, strictResidency: strict.value });
  const whatsApp = parseWhatsAppSettings(env);
  const endpointsFrom = (suffix: string) =>
    Object.fromEntries(Object.entries(STORE_SETTING_NAMES).map(([field, name]) => [field, get(`${name}${suffix}`)])) as Record<keyof StoreEndpoints, string | undefined>;
  const geographies: Record<string, Partial<StoreEndpoints>> = {};
  for (const g of GEOGRAPHIES) {
    const overrides = Object.fromEntries(
      Object.entries(endpointsFrom(`__${g.key.toUpperCase()}`)).filter(([, v]) => v !== undefined),
    );
    if (Object.keys(overrides).length > 0) geographies[g.key] = overrides;
  }
  const raw = {
    managementKey: get('MANAGEMENT_KEY'),
    managementPrincipals: { objectIds: get('MANAGEMENT_PRINCIPALS'), appRoles: get('MANAGEMENT_APP_ROLES') },
    telemetryHashKey: get('TELEMETRY_HASH_KEY'),
    // In Azure, WEBSITE_HOSTNAME is the app's default host name.
    publicBaseUrl: get('PUBLIC_BASE_URL') ?? (get('WEBSITE_HOSTNAME') ? `https://${get('WEBSITE_HOSTNAME')}` : undefined),
    controlDatabase: get('COSMOS_CONTROL_DATABASE'),
    geoStorePrefix: get('GEO_STORE_PREFIX'),
    cosmosAllowSelfSigned: get('COSMOS_ALLOW_SELF_SIGNED'),
    eventSchema: get('EVENTGRID_SCHEMA'),
    maxRequestBodyBytes: get('MAX_REQUEST_BODY_BYTES'),
    outboxPublishTimeoutMs: get('OUTBOX_PUBLISH_TIMEOUT_MS'),
    outboxMarkDelayMs: get('OUTBOX_MARK_DELAY_MS'),
    outboxRetentionHours: get('OUTBOX_RETENTION_HOURS'),
    purgeCountWindowMs: get('PURGE_COUNT_WINDOW_MS'),
    logLevel: get('LOG_LEVEL'),
    tokenKeyRotationDays: get('TOKEN_KEY_ROTATION_DAYS'),
    tokenRevocationCacheMs: get('TOKEN_REVOCATION_CACHE_MS'),
    resourceCacheMs: get('RESOURCE_CACHE_MS'),
    tokenIssuer: get('TOKEN_ISSUER'),
    rateLimitWindowSeconds: get('RATE_LIMIT_WINDOW_SECONDS'),
    rateLimitIdentityCreate: get('RATE_LIMIT_IDENTITY_CREATE'),
    rateLimitIdentityDelete: get('RATE_LIMIT_IDENTITY_DELETE'),
    chatRateLimitFactor: get('CHAT_RATE_LIMIT_FACTOR'),
    recordingMaxBytes: get('RECORDING_MAX_BYTES'),
    recordingBlockBytes: get('RECORDING_UPLOAD_BLOCK_BYTES'),
    recordingUploadConcurrency: get('RECORDING_UPLOAD_CONCURRENCY'),
    recordingCopyBlockBytes: get('RECORDING_COPY_BLOCK_BYTES'),
    privacyWorkerMaxSeconds: get('PRIVACY_WORKER_MAX_SECONDS'),
    privacyStepsPerItem: get('PRIVACY_STEPS_PER_ITEM'),
    privacyPageSize: get('PRIVACY_PAGE_SIZE'),
    teamsTokenJwksUrl: get('TEAMS_TOKEN_JWKS_URL'),
    teamsTokenIssuers: get('TEAMS_TOKEN_ISSUERS'),
    teamsTokenAudiences: get('TEAMS_TOKEN_AUDIENCE'),
    rateLimitTeamsTokenExchange: get('RATE_LIMIT_TEAMS_TOKEN_EXCHANGE'),
    hostStorage: {
      connectionString: get('AzureWebJobsStorage'),
      queueServiceUri:
        get('AzureWebJobsStorage__queueServiceUri') ??
        (get('AzureWebJobsStorage__accountName') ? `https://${get('AzureWebJobsStorage__accountName')}.queue.core.windows.net` : undefined),
    },
    azureClientId: get('AZURE_CLIENT_ID'),
    armEndpoint: get('ARM_ENDPOINT'),
    enabledGeographies: enabled.keys,
    strictResidency: strict.value,
    storeProvisioning: get('STORE_PROVISIONING') ?? (runsInAzure(env) ? 'verify' : 'create'),
    defaults: endpointsFrom(''),
    geographies,
    smsCarriers: sms.carriers,
    sms: {
      enquireLinkSeconds: get('SMPP_ENQUIRE_LINK_SECONDS'),
      reconnectMaxSeconds: get('SMPP_RECONNECT_MAX_SECONDS'),
      responseTimeoutMs: get('SMPP_RESPONSE_TIMEOUT_MS'),
      window: get('SMPP_WINDOW'),
    },
    email: email.settings,
    whatsApp: whatsApp.settings,
  };
  const parsed = settingsSchema.safeParse(raw);
  const problems = [...enabled.problems, ...strict.problems, ...sms.problems, ...email.problems, ...whatsApp.problems];
  if (!parsed.success) {
    problems.push(
      ...parsed.error.issues.map((issue) => {
        const path = issue.path.join('.');
        return path ? `${path}: ${issue.message}` : issue.message;
      }),
    );
  }
  if (parsed.success && problems.length === 0) problems.push(...residencyProblems(parsed.data));
  // Certificate checks are never turned off in Azure (a self-signed certificate is for local emulators).
  if (parsed.success && parsed.data.cosmosAllowSelfSigned && runsInAzure(env)) problems.push('COSMOS_ALLOW_SELF_SIGNED must be false in Azure');
  if (problems.length > 0 || !parsed.success) throw new SettingsError(problems);
  return parsed.data;
}

/**
 * The settings of each account, and the one that says which account it is: a geography that names its
 * own account takes none of the default account's settings (no default key or resource id for it).
 */
const ACCOUNT_GROUPS: { locators: (keyof StoreEndpoints)[]; fields: (keyof StoreEndpoints)[] }[] = [
  { locators: ['cosmosEndpoint'], fields: ['cosmosEndpoint', 'cosmosKey'] },
  { locators: ['storageConnectionString', 'storageAccountUrl'], fields: ['storageConnectionString', 'storageAccountUrl', 'storageAccountResourceId'] },
  { locators: ['eventGridEndpoint'], fields: ['eventGridEndpoint', 'eventGridKey', 'eventGridTopicResourceId'] },
];

/**
 * The store endpoints a geography uses, account by account: its own where it names its own account;
 * otherwise (never in strict residency) the default account's. Fields may be missing (checked at
 * start-up by residencyProblems).
 */
export function endpointsFor(settings: Settings, geographyKey: string): Partial<StoreEndpoints> {
  const own: Partial<StoreEndpoints> = settings.geographies[geographyKey] ?? {};
  const endpoints: Partial<StoreEndpoints> = {};
  for (const { locators, fields } of ACCOUNT_GROUPS) {
    const namesOwn = locators.some((field) => own[field] !== undefined);
    const source: Partial<StoreEndpoints> = namesOwn || settings.strictResidency ? own : settings.defaults;
    for (const field of fields) if (source[field] !== undefined) endpoints[field] = source[field];
  }
  return endpoints;
}
