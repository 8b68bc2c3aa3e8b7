import type { TokenCredential } from '@azure/core-auth';
import { randomBytes } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Clock } from '../shared/clock.js';
import { parseEnabledGeographies } from '../shared/config/strict-residency.js';
import { geographyByKey } from '../shared/geography/geographies.js';
import { SCHEDULE_SETTING_DEFAULTS } from '../shared/timer-schedules.js';
import { configureServices } from '../shared/services.js';
import { startEmbeddedBlob, type EmbeddedBlob } from './emulators/azurite-blob.js';
import { startEmbeddedQueue, type EmbeddedQueue } from './emulators/azurite-queue.js';
import { BlobCreatedFeed } from './emulators/blob-created-feed.js';
import { startEmbeddedCosmos, type EmbeddedCosmos } from './emulators/cosmos-emulator.js';
import { regionDisplayName, type EmbeddedCosmosEndpoint } from './emulators/cosmos-locations.js';
import { LocalEventGridTopic, type WebhookSubscription } from './eventgrid-topic/topic-server.js';
import { startEmbeddedSmsc, type EmbeddedSmsc } from './smsc/embedded-smsc.js';
import { startEmbeddedWhatsApp } from './whatsapp-cloud/embedded-whatsapp.js';
import type { WhatsAppCloudSimulator } from './whatsapp-cloud/simulator.js';
import { FunctionHost } from './function-host.js';
import { startHostInstance, type HostInstance } from './host-instances.js';
import { lazyTokenCredential } from './lazy-credential.js';
import { installFunctionsCore } from './functions-core-shim.js';
import { queueSettings } from './queue-settings.js';
import { startSmtpRelay, type EmbeddedSmtpRelay } from './smtp-relay/embedded-relay.js';
import { loadOrCreateCertificate, type TlsMaterial } from './tls-certificate.js';

/**
 * The whole local stack: embedded Cosmos, Azurite blob and queue, and the local Event Grid topic
 * (each only when the settings do not point at a real endpoint), the app's settings in the environment, the
 * function files loaded through the real `@azure/functions` API, and the host serving them.
 */
export interface LocalStackOptions {
  /** App settings (local.settings.json Values merged with the environment). */
  env: Record<string, string | undefined>;
  /** Folder of the built (or, in tests, source) function files to load. */
  functionsDir: string;
  /** Where the TLS certificate is kept. */
  certDir: string;
  routePrefix: string;
  /** The queue and SMTP relay ports default to 0 (a free port). */
  ports: { http: number; https: number; cosmos: number; blob: number; queue?: number; eventGrid: number; smsc?: number; smscHttp?: number; smtp?: number; smtpHttp?: number; whatsApp?: number };
  /** host.json's `extensions.queues` (the queue triggers' settings). */
  queues?: Record<string, unknown>;
  clock?: Clock;
  /** A delay before the embedded Cosmos server answers each request: a network round trip, for benchmarks (0, none, by default). */
  cosmosLatencyMs?: number;
  log?: (line: string) => void;
  /** Persist Azurite's blobs here instead of in memory. */
  blobLocation?: string;
  /** The Microsoft Entra credential of stores given without a key (tests: a credential the emulators accept). */
  credential?: TokenCredential;
  /** PEM certificate(s) the app's store clients trust besides the system's (HTTPS emulators started by the caller). */
  trustedCertificates?: string;
  /** Whether the timers run on their schedules (default true; an extra instance runs none). */
  timers?: boolean;
  /** How long a queue message stays invisible while its function runs (default the host's 600 s; tests shorten it). */
  processingVisibilitySeconds?: number;
}

export interface LocalStack {
  host: FunctionHost;
  topic?: LocalEventGridTopic;
  /** The embedded SMSC (only when no geography names an SMPP carrier of its own: SMPP_HOST__<GEO>). */
  smsc?: EmbeddedSmsc;
  /** The embedded SMTP relay (started when SMTP_HOST is empty): every geography without a relay of its own sends through it. */
  smtpRelay?: EmbeddedSmtpRelay;
  /** The embedded WhatsApp Cloud API simulator (only when WHATSAPP_API_BASE_URL is not set). */
  whatsApp?: WhatsAppCloudSimulator;
  /** BlobCreated events of the landing containers (only with the embedded Azurite). */
  blobEvents?: BlobCreatedFeed;
  /** Requests the embedded Cosmos server has served (only when it is used). */
  cosmosRequests?: () => number;
  /**
   * The embedded Cosmos server's endpoint of each enabled geography without a Cosmos endpoint of its
   * own, by geography key (only when the embedded server is used); its `location` is what the
   * geography's account reports.
   */
  cosmosEndpoints: Map<string, EmbeddedCosmosEndpoint>;
  env: Record<string, string | undefined>;
  /** The extra instances started with `startInstance` (stopped with the stack). */
  instances: HostInstance[];
  /**
   * Starts one more instance of the app in a process of its own, on this stack's stores: it polls the
   * same queues; the timers stay with this one (see local/host-instances.ts).
   */
  startInstance(name?: string): Promise<HostInstance>;
  /**
   * Resolves once every queue the host polls is empty (Azurite counts a message until it is deleted,
   * that is, until its function has finished on whichever instance), seen twice in a row. Wakes this
   * host's queue listeners first, so work enqueued by a function is taken up without waiting out
   * their backoff.
   */
  idle(timeoutMs?: number): Promise<void>;
  httpUrl: string;
  httpsUrl: string;
  tls: TlsMaterial;
  managementKey: string;
  /** The default stores; a key or connection string is '' when the settings gave an account without one (keyless). */
  stores: {
    cosmosEndpoint: string;
    cosmosKey: string;
    storageConnectionString: string;
    /** AzureWebJobsStorage: the host's storage account (queues; the embedded Azurite queue and blob services unless given). */
    queueConnectionString: string;
  };
  stop(): Promise<void>;
}

const blank = (value: string | undefined) => value === undefined || value.trim() === '';

export async function readRoutePrefix(hostJsonPath: string): Promise<string> {
  const hostJson = JSON.parse(await readFile(hostJsonPath, 'utf8')) as { extensions?: { http?: { routePrefix?: string } } };
  return hostJson.extensions?.http?.routePrefix ?? 'api';
}

export async function loadFunctionFiles(dir: string): Promise<string[]> {
  const files = (await readdir(dir)).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
  for (const file of files) await import(pathToFileURL(join(dir, file)).href);
  return files;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? ((line: string) => console.log(line));
  const env = { ...options.env };
  // The timers' schedule settings, which the infrastructure sets in Azure: their defaults where unset or empty.
  for (const [name, value] of Object.entries(SCHEDULE_SETTING_DEFAULTS)) if (blank(env[name])) env[name] = value;
  const stoppers: (() => Promise<void>)[] = [];
  try {
    let cosmos: EmbeddedCosmos | undefined;
    if (blank(env.COSMOS_ENDPOINT)) {
      cosmos = await startEmbeddedCosmos(options.ports.cosmos, { latencyMs: options.cosmosLatencyMs });
      stoppers.push(() => cosmos!.stop());
      env.COSMOS_ENDPOINT = cosmos.endpoint;
      env.COSMOS_KEY = cosmos.key;
    }
    const cosmosEndpoints = cosmos ? await geographyEndpoints(cosmos, env) : new Map<string, EmbeddedCosmosEndpoint>();
    let blob: EmbeddedBlob | undefined;
    // An account URL without a connection string is keyless access to that account: no Azurite then.
    const keylessStorage = blank(env.STORAGE_CONNECTION_STRING) && !blank(env.STORAGE_ACCOUNT_URL);
    if (!keylessStorage && (blank(env.STORAGE_CONNECTION_STRING) || env.STORAGE_CONNECTION_STRING === 'UseDevelopmentStorage=true')) {
      blob = await startEmbeddedBlob(options.ports.blob, { location: options.blobLocation });
      stoppers.push(() => blob!.stop());
      env.STORAGE_CONNECTION_STRING = blob.connectionString;
    }
    // The host's own storage (queue triggers), as the Functions host reads it from AzureWebJobsStorage.
    let queue: EmbeddedQueue | undefined;
    const identityQueues = !blank(env.AzureWebJobsStorage__queueServiceUri) || !blank(env.AzureWebJobsStorage__accountName);
    if ((blank(env.AzureWebJobsStorage) && !identityQueues) || env.AzureWebJobsStorage === 'UseDevelopmentStorage=true') {
      queue = await startEmbeddedQueue(options.ports.queue ?? 0);
      stoppers.push(() => queue!.stop());
      env.AzureWebJobsStorage = `${queue.connectionString}${blob ? `BlobEndpoint=${blob.accountUrl};` : ''}`;
    }
    let topic: LocalEventGridTopic | undefined;
    if (blank(env.EVENTGRID_TOPIC_ENDPOINT)) {
      const subscriptions = JSON.parse(env.LOCAL_EVENTGRID_SUBSCRIPTIONS || '[]') as WebhookSubscription[];
      topic = new LocalEventGridTopic({ key: randomBytes(32).toString('base64'), port: options.ports.eventGrid, subscriptions, log });
      await topic.start();
      const started = topic;
      stoppers.push(async () => {
        await started.stop();
        started.dispose();
      });
      env.EVENTGRID_TOPIC_ENDPOINT = topic.endpoint;
      env.EVENTGRID_TOPIC_KEY = topic.key;
    }
    // The SMS carrier of every enabled geography: the embedded SMSC, unless some geography names its own.
    let smsc: EmbeddedSmsc | undefined;
    if (!Object.keys(env).some((key) => key.startsWith('SMPP_HOST__') && !blank(env[key]))) {
      smsc = await startEmbeddedSmsc(env, { port: options.ports.smsc ?? 0, httpPort: options.ports.smscHttp ?? 0, log });
      const started = smsc;
      stoppers.push(() => started.stop());
    }

    const tls = await loadOrCreateCertificate(options.certDir);
    // The e-mail relay: TLS with the development certificate, and AUTH with a generated password.
    let smtpRelay: EmbeddedSmtpRelay | undefined;
    if (blank(env.SMTP_HOST)) {
      smtpRelay = await startSmtpRelay({ tls, port: options.ports.smtp ?? 0, httpPort: options.ports.smtpHttp ?? 0 });
      const started = smtpRelay;
      stoppers.push(() => started.stop());
      Object.assign(env, smtpRelay.settings());
    }
    // The WhatsApp Business Cloud API of every WhatsApp geography: the embedded simulator, unless one is configured.
    let whatsApp: WhatsAppCloudSimulator | undefined;
    if (blank(env.WHATSAPP_API_BASE_URL)) {
      whatsApp = await startEmbeddedWhatsApp(env, { port: options.ports.whatsApp ?? 0, ca: tls.cert, log });
      const started = whatsApp;
      stoppers.push(() => started.stop());
    }
    const shim = installFunctionsCore();
    shim.logSink = (level, category, message) => {
      if (category === 'system' && level !== 'warning' && level !== 'error') return;
      log(`[worker] ${level} ${message}`);
    };
    // The e-mail transports trust the development certificate (the embedded relays use it), in code only.
    const overrides = { clock: options.clock, env, credential: options.credential, trustedCertificates: options.trustedCertificates, smtpTrustedCertificates: tls.cert };
    // The settings also go into process.env (timers read their schedules from it); stop() restores it.
    const previousEnv = new Map<string, string | undefined>();
    const setEnv = (key: string, value: string) => {
      if (!previousEnv.has(key)) previousEnv.set(key, process.env[key]);
      process.env[key] = value;
    };
    stoppers.push(async () => {
      for (const [key, value] of previousEnv) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    });
    for (const [key, value] of Object.entries(env)) if (value !== undefined) setEnv(key, value);
    configureServices(overrides);
    const app = await shim.load(options.functionsDir, () => loadFunctionFiles(options.functionsDir));
    const host = new FunctionHost({
      app,
      routePrefix: options.routePrefix,
      env,
      httpPort: options.ports.http,
      httpsPort: options.ports.https,
      tls,
      log,
      queues: queueSettings(options.queues),
      timers: options.timers,
      queueTriggers: {
        // Identity-based queue connections: the credential given in code (tests), else the app's identity chain.
        identity: {
          credential: (clientId) => options.credential ?? lazyTokenCredential(clientId),
          ...(options.trustedCertificates ? { ca: [...rootCertificates, options.trustedCertificates] } : {}),
        },
        ...(options.processingVisibilitySeconds ? { processingVisibilitySeconds: options.processingVisibilitySeconds } : {}),
      },
      // The public URL is known once the host listens, before the app's start hook reads the settings.
      onListening: (listening) => {
        if (!blank(env.PUBLIC_BASE_URL)) return;
        env.PUBLIC_BASE_URL = listening.httpsUrl;
        setEnv('PUBLIC_BASE_URL', listening.httpsUrl);
        configureServices(overrides);
      },
    });
    await host.start();
    stoppers.push(() => host.stop());
    let blobEvents: BlobCreatedFeed | undefined;
    if (blob) {
      // The Event Grid subscription the infrastructure makes: landing containers -> recordingLanding.
      blobEvents = new BlobCreatedFeed({
        storageConnectionString: blob.connectionString,
        webhookUrl: `${host.httpUrl}/runtime/webhooks/eventgrid?functionName=recordingLanding`,
        containerSuffix: '-recording-landing',
        pollMs: Number(env.LOCAL_BLOB_EVENTS_POLL_MS || 2000),
        log,
      });
      blobEvents.start();
      const started = blobEvents;
      stoppers.push(() => started.stop());
    }
    const instances: HostInstance[] = [];
    stoppers.push(async () => {
      await Promise.all(instances.map((instance) => instance.stop().catch(() => undefined)));
    });
    const startInstance = async (name = `instance ${instances.length + 2}`) => {
      const instance = await startHostInstance(
        {
          name,
          env,
          functionsDir: options.functionsDir,
          certDir: options.certDir,
          routePrefix: options.routePrefix,
          ...(options.queues ? { queues: options.queues } : {}),
          ...(options.processingVisibilitySeconds ? { processingVisibilitySeconds: options.processingVisibilitySeconds } : {}),
          ...(options.trustedCertificates ? { trustedCertificates: options.trustedCertificates } : {}),
        },
        log,
      );
      instances.push(instance);
      return instance;
    };
    const idle = async (timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      let quiet = 0;
      const woken = new Set<string>();
      // Checks every 25 ms at first, then less often (to 250 ms) while work remains: each check counts
      // every queue that exists (about 3 ms of CPU, client and Azurite together), and wakes the
      // listener of a queue the first time it holds messages (work enqueued before, or by the work
      // since). The others stay in their backoff: waking every listener made each call cost a burst
      // of polls of empty queues. Checks up to 1 s apart left a privacy request's steps waiting (a
      // data subject delete in chat-races took 5.4 s, 4.6 s with 250 ms).
      for (let wait = 25; quiet < 2; wait = Math.min(250, wait * 2)) {
        if (Date.now() > deadline) throw new Error(`the queues were not idle within ${timeoutMs} ms`);
        const holding = await host.queueTriggers.queuesWithMessages();
        const fresh = new Set([...holding].filter((queue) => !woken.has(queue)));
        if (fresh.size > 0) host.queueTriggers.wake(fresh);
        for (const queue of fresh) woken.add(queue);
        quiet = holding.size === 0 ? quiet + 1 : 0;
        if (quiet === 1) wait = 12;
        if (quiet < 2) await sleep(wait);
      }
    };
    return {
      host,
      instances,
      startInstance,
      idle,
      topic,
      ...(smsc ? { smsc } : {}),
      smtpRelay,
      ...(whatsApp ? { whatsApp } : {}),
      blobEvents,
      ...(cosmos ? { cosmosRequests: cosmos.requests } : {}),
      cosmosEndpoints,
      env,
      httpUrl: host.httpUrl,
      httpsUrl: host.httpsUrl,
      tls,
      managementKey: env.MANAGEMENT_KEY ?? '',
      stores: {
        cosmosEndpoint: env.COSMOS_ENDPOINT!,
        cosmosKey: env.COSMOS_KEY ?? '',
        storageConnectionString: env.STORAGE_CONNECTION_STRING ?? '',
        queueConnectionString: env.AzureWebJobsStorage ?? '',
      },
      stop: async () => {
        configureServices({});
        for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
    throw error;
  }
}

/**
 * Each enabled geography without a Cosmos endpoint of its own gets one on the embedded server: the
 * same in-memory account on another (free) port, whose database-account read reports the geography's
 * primary region, as the geography's own account in Azure would. So the residency audit's location
 * check runs locally. The main endpoint (control plane) still serves every database.
 */
async function geographyEndpoints(cosmos: EmbeddedCosmos, env: Record<string, string | undefined>): Promise<Map<string, EmbeddedCosmosEndpoint>> {
  const endpoints = new Map<string, EmbeddedCosmosEndpoint>();
  // An invalid ENABLED_GEOGRAPHIES is reported when the settings are parsed; its valid entries get endpoints.
  for (const key of parseEnabledGeographies(blank(env.ENABLED_GEOGRAPHIES) ? undefined : env.ENABLED_GEOGRAPHIES).keys) {
    const suffix = `__${key.toUpperCase()}`;
    if (!blank(env[`COSMOS_ENDPOINT${suffix}`])) continue;
    const endpoint = await cosmos.addEndpoint(regionDisplayName(geographyByKey(key).regions[0]!));
    env[`COSMOS_ENDPOINT${suffix}`] = endpoint.endpoint;
    env[`COSMOS_KEY${suffix}`] = cosmos.key;
    endpoints.set(key, endpoint);
  }
  return endpoints;
}
