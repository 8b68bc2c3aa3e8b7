import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLocalSettings, settingsEnvironment } from './local-settings.js';
import { readQueueExtension } from './queue-settings.js';
import { readRoutePrefix, startLocalStack } from './stack.js';
import { registerDemoChannel } from './whatsapp-cloud/demo-channel.js';

/**
 * `npm start`: the development host on the embedded stores, like `func start` but offline.
 * Runs from dist/ (the same built function files Azure runs).
 */
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const time = () => new Date().toISOString().slice(11, 23);
const log = (line: string) => console.log(`${time()} ${line}`);

async function main(): Promise<void> {
  const { settings, created, generated } = await loadLocalSettings(join(root, 'local.settings.json'), join(root, 'local.settings.sample.json'));
  if (created) log('created local.settings.json from local.settings.sample.json');
  if (generated.length > 0) log(`generated ${generated.join(' and ')} into local.settings.json`);
  const env = settingsEnvironment(settings, process.env);
  const port = (name: string, fallback: number) => Number(env[name] || fallback);
  const stack = await startLocalStack({
    env,
    functionsDir: join(root, 'dist', 'functions'),
    certDir: join(root, '.local', 'certs'),
    routePrefix: await readRoutePrefix(join(root, 'host.json')),
    ports: {
      http: Number(env.LOCAL_HTTP_PORT || settings.Host.LocalHttpPort || 7071),
      https: port('LOCAL_HTTPS_PORT', 7443),
      cosmos: port('LOCAL_COSMOS_PORT', 8081),
      blob: port('LOCAL_BLOB_PORT', 10000),
      queue: port('LOCAL_QUEUE_PORT', 10001),
      eventGrid: port('LOCAL_EVENTGRID_PORT', 7075),
      smsc: port('LOCAL_SMSC_PORT', 2775),
      smscHttp: port('LOCAL_SMSC_HTTP_PORT', 7076),
      smtp: port('LOCAL_SMTP_PORT', 2525),
      smtpHttp: port('LOCAL_SMTP_HTTP_PORT', 7077),
      whatsApp: port('LOCAL_WHATSAPP_PORT', 7078),
    },
    queues: await readQueueExtension(join(root, 'host.json')),
    log,
  });

  // LOCAL_HOST_INSTANCES=2 (or more): extra instances of the app on the same stores, as Azure scales out.
  const instances = Math.max(1, Number(env.LOCAL_HOST_INSTANCES || 1));
  for (let i = 2; i <= instances; i += 1) {
    const instance = await stack.startInstance(`instance ${i}`);
    log(`instance ${i} (pid ${instance.pid}): ${instance.httpUrl}, ${instance.httpsUrl}; it polls the same queues, the timers run on the first`);
  }

  const functions = stack.host.functions().map((f) => f.metadata.name).sort();
  console.log(`
  Functions (${functions.length}): ${functions.join(', ')}

  HTTP      ${stack.httpUrl}
  HTTPS     ${stack.httpsUrl}   (self-signed: .local/certs/localhost-cert.pem)
  Cosmos    ${stack.stores.cosmosEndpoint}${stack.cosmosEndpoints.size > 0 ? `   (and one endpoint per geography, on a free port, reporting its region)` : ''}
  Blob      ${stack.stores.storageConnectionString.match(/BlobEndpoint=([^;]+)/)?.[1] ?? '(configured account)'}
  Queue     ${stack.stores.queueConnectionString.match(/QueueEndpoint=([^;]+)/)?.[1] ?? '(configured account)'}   (AzureWebJobsStorage: queue triggers)
  EventGrid ${stack.env.EVENTGRID_TOPIC_ENDPOINT}${stack.topic ? '   (local topic; GET it to see what it received)' : ''}
  WhatsApp  ${stack.whatsApp ? `${stack.whatsApp.graphUrl}   (embedded Cloud API simulator; ${stack.whatsApp.url}/api/messages shows what it received)` : stack.env.WHATSAPP_API_BASE_URL}
  SMSC      ${stack.smsc ? `smpp://127.0.0.1:${stack.smsc.server.port}   (embedded, every geography's carrier; ${stack.smsc.url}/api/messages shows what it received)` : '(the SMPP_HOST__<GEO> carriers)'}
  SMTP      ${stack.smtpRelay ? `localhost:${stack.smtpRelay.smtpPort} (embedded relay, STARTTLS + AUTH; what it received: ${stack.smtpRelay.httpUrl}/api/messages)` : `${stack.env.SMTP_HOST ?? ''} (configured relay)`}
  Management: curl -H "Authorization: Bearer $MANAGEMENT_KEY" ${stack.httpUrl}/api/management/resources
              (MANAGEMENT_KEY is in local.settings.json)
  Console   ${stack.httpUrl}/console/   (privacy console: sign in with MANAGEMENT_KEY)
`);

  const demoName = env.DEMO_RESOURCE_NAME || 'demo';
  const demoGeography = env.DEMO_RESOURCE_GEOGRAPHY || 'Europe';
  const response = await fetch(`${stack.httpUrl}/api/management/resources/${encodeURIComponent(demoName)}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${stack.managementKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ geography: demoGeography }),
  });
  const demo = (await response.json()) as { connectionString?: string; geography?: string; error?: { message: string } };
  if (response.ok) {
    console.log(`  Demo resource '${demoName}' in ${demo.geography}:\n  ${demo.connectionString}\n`);
    if (stack.whatsApp && response.status === 201) {
      const lines = await registerDemoChannel({ httpUrl: stack.httpUrl, managementKey: stack.managementKey, resourceName: demoName, simulator: stack.whatsApp }).catch((error: unknown) => [`  No demo WhatsApp channel: ${String(error)}`]);
      console.log(`${lines.join('\n')}\n`);
    }
  } else {
    log(`could not create the demo resource: ${demo.error?.message ?? response.status}`);
  }

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    stack.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
