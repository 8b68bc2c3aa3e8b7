import type { TokenCredential } from '@azure/core-auth';
import { ChatService } from './chat/chat-service.js';
import { ChatThrottle } from './chat/chat-throttle.js';
import { systemClock, type Clock } from './clock.js';
import { parseSettings, type Settings } from './config/settings.js';
import { configureSettingsEnv, settingsEnv } from './config/settings-env.js';
import type { EventPublisher } from './events/event-publisher.js';
import { EventGridPublisher } from './events/eventgrid-publisher.js';
import { Outbox } from './events/outbox.js';
import { RateLimiter } from './http/rate-limiter.js';
import type { OperationOutcome, OperationRecord } from './http/route-handler.js';
import { operationName } from './oplog/operation-names.js';
import { operationLogRecord, OperationLogs } from './oplog/operation-log.js';
import { IdentityService } from './identity/identity-service.js';
import { EntraTokenVerifier } from './identity/entra-token-verifier.js';
import { TeamsTokenExchange } from './identity/teams-token-exchange.js';
import { TokenKeyRing } from './identity/token-key-ring.js';
import { ResourceRegistry } from './resources/resource-registry.js';
import { ResourceService } from './resources/resource-service.js';
import { RecordingService } from './recordings/recording-service.js';
import { ChatContext } from './chat/chat-context.js';
import { PrivacyService } from './privacy/privacy-service.js';
import type { PrivacyRunnerDeps } from './privacy/request-runner.js';
import { normalizeSubjects } from './privacy/privacy-subjects.js';
import { LegalHolds } from './retention/legal-holds.js';
import { PurgeRuns } from './retention/purge-runs.js';
import { RunScopedCache } from './retention/run-scoped-cache.js';
import type { Resource } from './resources/resource.js';
import { WorkQueueSender } from './queues/work-queue-sender.js';
import { ThreadRetention } from './retention/thread-retention.js';
import { ControlStore } from './stores/control-store.js';
import { lazyAzureCredential, type CredentialSource } from './stores/azure-credential.js';
import { CosmosClients } from './stores/cosmos-clients.js';
import type { GeoStore } from './stores/geo-store.js';
import { StoreDirectory } from './stores/store-directory.js';
import { missingStores } from './stores/store-check.js';
import { storeCatalogue } from './stores/store-catalogue.js';
import { StoreReadiness } from './stores/store-readiness.js';
import { geographyByKey } from './geography/geographies.js';
import { storeTls } from './stores/store-tls.js';
import { createLogger, type Logger } from './telemetry/logger.js';
import { createPseudonymizer, type Pseudonymizer } from './telemetry/pseudonymizer.js';
import { NumberPool } from './phone-numbers/number-pool.js';
import { PhoneNumberService } from './phone-numbers/phone-number-service.js';
import { createSmsService, type SmsService } from './sms/sms-service.js';
import { SmsRecords } from './sms/sms-records.js';
import { EmailService, type EmailServiceDeps } from './email/email-service.js';
import { createWhatsAppService, type WhatsAppService } from './whatsapp/whatsapp-service.js';

/**
 * The composition root: builds the app's dependencies from its settings, once, on first use. Domain
 * modules never reach for these; trigger adapters pass them in.
 */
export interface Services {
  settings: Settings;
  clock: Clock;
  /** The app's Microsoft Entra credential (keyless store access; the residency audit's ARM reads). */
  credential: CredentialSource;
  logger: Logger;
  pseudonymize: Pseudonymizer;
  stores: StoreDirectory;
  control: ControlStore;
  registry: ResourceRegistry;
  publisher: EventPublisher;
  outboxFor(geo: GeoStore): Outbox;
  resources: ResourceService;
  identities: IdentityService;
  teamsTokens: TeamsTokenExchange;
  chat: ChatService;
  recordings: RecordingService;
  /** `resources`: a resource's record, shared by the work items of one purge run on this instance for 5 s. */
  retention: { holds: LegalHolds; threads: ThreadRetention; runs: PurgeRuns; resources: RunScopedCache<Resource | undefined> };
  oplogs: OperationLogs;
  privacy: PrivacyService;
  /** The Phone Numbers API and the geographies' number pools (shared/phone-numbers). */
  phoneNumbers: PhoneNumberService;
  /** SMS: sending over the carrier links, receipts and inbound messages (shared/sms). */
  sms: SmsService;
  /** E-mail: domains and sender usernames, sends, delivery to each geography's SMTP relay (shared/email). */
  email: EmailService;
  /** Sends work items to the work queues (shared/queues). */
  workQueues: WorkQueueSender;
  /** Advanced Messaging for WhatsApp: channels, the Messages API, WhatsApp's webhook (shared/whatsapp). */
  whatsApp: WhatsAppService;
  /** Writes a data-plane operation's log record in its resource's geography; the answer can amend it. */
  recordOperation(outcome: OperationOutcome): Promise<OperationRecord>;
  /** Whether the declared stores exist (checked at app start when STORE_PROVISIONING=verify). */
  readiness: StoreReadiness;
  dispose(): void;
}

export interface ServiceOverrides {
  clock?: Clock;
  publisher?: EventPublisher;
  env?: Record<string, string | undefined>;
  /** The Microsoft Entra credential of keyless store access (default: lazyAzureCredential). */
  credential?: TokenCredential;
  /**
   * PEM certificate(s) the store clients trust besides the system's: the local stack's self-signed
   * certificate for its HTTPS emulators. Never set from app settings (shared/stores/store-tls.ts).
   */
  trustedCertificates?: string;
  /** Tests: awaited after every privacy request checkpoint (to simulate a crash half-way). */
  privacyAfterCheckpoint?: PrivacyRunnerDeps['afterCheckpoint'];
  /** The embedded SMTP relay's certificate, trusted by the e-mail transports only (the local stack passes it; never a setting). */
  smtpTrustedCertificates?: string;
  /** Tests: awaited after each e-mail recipient's outcome is stored (to simulate a crash half-way). */
  emailAfterRecipient?: EmailServiceDeps['afterRecipient'];
}

export function createServices(settings: Settings, overrides: ServiceOverrides = {}): Services {
  const clock = overrides.clock ?? systemClock;
  const pseudonymize = createPseudonymizer(settings.telemetryHashKey);
  const logger = createLogger({ pseudonymize, level: settings.logLevel });
  const credential = lazyAzureCredential(settings.azureClientId, overrides.credential);
  const tls = storeTls(overrides.trustedCertificates);
  const cosmos = new CosmosClients({ allowSelfSigned: settings.cosmosAllowSelfSigned, credential, tls });
  const stores = new StoreDirectory(settings, cosmos, credential, tls);
  const control = new ControlStore(
    () => cosmos.get(settings.defaults.cosmosEndpoint, settings.defaults.cosmosKey),
    settings.controlDatabase,
    settings.storeProvisioning === 'create',
  );
  const registry = new ResourceRegistry(control);
  const publisher = overrides.publisher ?? new EventGridPublisher(settings, credential, tls);
  const outboxes = new Map<string, Outbox>();
  const outboxFor = (geo: GeoStore) => {
    let outbox = outboxes.get(geo.geography.key);
    if (!outbox) {
      outbox = new Outbox({ geo, control, publisher, clock, logger, publishTimeoutMs: settings.outboxPublishTimeoutMs, markDelayMs: settings.outboxMarkDelayMs });
      outboxes.set(geo.geography.key, outbox);
    }
    return outbox;
  };
  const resources = new ResourceService({ registry, stores, outboxFor, clock, enabledGeographies: settings.enabledGeographies, cacheMs: settings.resourceCacheMs });
  const keyRing = new TokenKeyRing(control, clock, { rotationDays: settings.tokenKeyRotationDays, maxTokenLifetimeMs: 1440 * 60_000, cacheMs: 60_000 });
  const identities = new IdentityService({
    stores,
    keyRing,
    clock,
    rateLimiter: new RateLimiter(() => clock.now().getTime()),
    limits: {
      windowMs: settings.rateLimitWindowSeconds * 1000,
      createAndIssue: settings.rateLimitIdentityCreate,
      deleteAndRevoke: settings.rateLimitIdentityDelete,
    },
    revocationCacheMs: settings.tokenRevocationCacheMs,
    inFlightDrainMs: 30_000,
    issuer: settings.tokenIssuer,
    deletionHooks: [],
  });
  const teamsTokens = new TeamsTokenExchange({
    verifier: new EntraTokenVerifier({ jwksUrl: settings.teamsTokenJwksUrl, issuers: settings.teamsTokenIssuers, audiences: settings.teamsTokenAudiences, clock, logger }),
    keyRing,
    clock,
    rateLimiter: new RateLimiter(() => clock.now().getTime()),
    limit: settings.rateLimitTeamsTokenExchange,
    windowMs: settings.rateLimitWindowSeconds * 1000,
    issuer: settings.tokenIssuer,
  });
  const chat = new ChatService({ stores, outboxFor, clock, throttle: new ChatThrottle(new RateLimiter(() => clock.now().getTime()), settings.chatRateLimitFactor) });
  identities.addDeletionHook(chat.identityDeletionHook);
  const holds = new LegalHolds({ stores, clock });
  const retention = {
    holds,
    threads: new ThreadRetention({ holds, purger: chat.purger, clock }),
    runs: new PurgeRuns({ control, clock, countWindowMs: settings.purgeCountWindowMs }),
    resources: new RunScopedCache<Resource | undefined>(5_000),
  };
  const recordings = new RecordingService({
    stores,
    outboxFor,
    clock,
    logger,
    resourceById: (id) => registry.getById(id),
    limits: {
      maxContentBytes: settings.recordingMaxBytes,
      maxMetadataBytes: 256 * 1024,
      blockBytes: settings.recordingBlockBytes,
      concurrency: settings.recordingUploadConcurrency,
      copyBlockBytes: settings.recordingCopyBlockBytes,
    },
    publicBaseUrl: settings.publicBaseUrl,
    holds,
  });
  const oplogs = new OperationLogs();
  const smsRecords = new SmsRecords();
  const phoneNumbers = new PhoneNumberService({
    stores,
    pool: new NumberPool({ stores, clock, carriersOf: (geographyKey) => Object.keys(settings.smsCarriers[geographyKey] ?? {}) }),
    sms: smsRecords,
    clock,
  });
  // Deleting a resource gives its numbers back to its geography's pool.
  resources.addDeletionHook(async (geo, resource) => {
    await phoneNumbers.releases.releaseAll(geo, resource);
  });
  const sms = createSmsService({ settings, stores, outboxFor, clock, logger, oplogs, phoneNumbers, records: smsRecords, resourceById: (id) => registry.getById(id) });
  const whatsApp = createWhatsAppService({
    settings,
    stores,
    outboxFor,
    oplogs,
    clock,
    logger,
    // A channel names the app settings that hold its secrets; they are read when used.
    readSetting: (name) => (overrides.env ?? process.env)[name],
    resolveResource: (name) => resources.resolveActive(name),
  });
  const chatContext = new ChatContext({ stores, outboxFor, clock });
  const privacy = new PrivacyService({
    stores,
    clock,
    logger,
    hashKey: settings.telemetryHashKey,
    resourceById: (id) => registry.getById(id),
    // A work item that has not written for its whole time budget plus a minute is taken to have died.
    leaseMs: (settings.privacyWorkerMaxSeconds + 60) * 1000,
    context: async (geo, resource, request) => ({
      action: request.action,
      resource,
      geo,
      subjects: normalizeSubjects(request.subjects!),
      subjectHashes: request.subjectHashes,
      requestId: request.id,
      holds: await holds.active(resource),
      now: () => clock.now(),
      pageSize: settings.privacyPageSize,
      chat: chatContext,
      identities,
      recordings,
      oplogs,
      email,
    }),
    ...(overrides.privacyAfterCheckpoint ? { afterCheckpoint: overrides.privacyAfterCheckpoint } : {}),
  });
  const email = new EmailService({
    stores,
    resourceById: (id) => registry.getById(id),
    outboxFor,
    oplogs,
    settings: settings.email,
    clock,
    logger,
    hashKey: settings.telemetryHashKey,
    ...(overrides.smtpTrustedCertificates ? { trustedCertificates: overrides.smtpTrustedCertificates } : {}),
    ...(overrides.emailAfterRecipient ? { afterRecipient: overrides.emailAfterRecipient } : {}),
  });
  const workQueues = new WorkQueueSender({ hostStorage: settings.hostStorage, createQueues: settings.storeProvisioning === 'create', credential, tls });
  const recordOperation = async (outcome: OperationOutcome): Promise<OperationRecord> => {
    const geo = stores.forResource(outcome.resource);
    const record = operationLogRecord({
      resourceId: outcome.resource.id,
      time: clock.now().toISOString(),
      operation: operationName(outcome.functionName, outcome.method),
      method: outcome.method,
      status: outcome.status,
      durationMs: outcome.durationMs,
      correlationId: outcome.correlationId,
      subjects: outcome.subjects,
    });
    await oplogs.write(geo, record);
    return { amend: (answer) => oplogs.rewrite(geo, { ...record, ...answer }) };
  };
  const readiness = new StoreReadiness({
    enabled: settings.storeProvisioning === 'verify',
    check: () =>
      missingStores({
        catalogue: storeCatalogue(settings),
        cosmosFor: (database) =>
          database.geographyKey
            ? stores.forGeography(geographyByKey(database.geographyKey)).existingDatabase().then((db) => db.client)
            : cosmos.get(settings.defaults.cosmosEndpoint, settings.defaults.cosmosKey),
        blobsFor: (key) => stores.forGeography(geographyByKey(key)).blobService(),
      }),
    logger,
    now: () => clock.now().getTime(),
    recheckMs: 60_000,
  });
  return {
    settings,
    clock,
    credential,
    logger,
    pseudonymize,
    stores,
    control,
    registry,
    publisher,
    outboxFor,
    resources,
    identities,
    teamsTokens,
    chat,
    recordings,
    retention,
    oplogs,
    privacy,
    phoneNumbers,
    sms,
    email,
    workQueues,
    whatsApp,
    recordOperation,
    readiness,
    dispose: () => {
      void sms.dispose();
      email.dispose();
      whatsApp.dispose();
      cosmos.dispose();
    },
  };
}

let current: Services | undefined;
let pendingOverrides: ServiceOverrides = {};

/** The app's services, built from the environment on first use. */
export function services(): Services {
  current ??= createServices(parseSettings(settingsEnv()), pendingOverrides);
  return current;
}

/** The app's services if they were built (for shutdown work that must not build them). */
export function existingServices(): Services | undefined {
  return current;
}

/** For the development host and tests: what the next `services()` is built with. */
export function configureServices(overrides: ServiceOverrides): void {
  current?.dispose();
  current = undefined;
  pendingOverrides = overrides;
  configureSettingsEnv(overrides.env);
}
