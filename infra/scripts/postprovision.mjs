// azd postprovision hook: writes local.settings.json so that `npm start` runs the app on this machine
// against the resources just provisioned, as the deployed app sees them: strict residency, the
// control database, and each enabled geography's own Cosmos DB account, storage account and Event
// Grid topic, reached with the developer's own Entra sign-in (`az login`), never with a key.
//
// azd passes the provision outputs as environment variables (COSMOS_ENDPOINT, ENABLED_GEOGRAPHY_KEYS,
// GEOGRAPHIES as JSON, ...). Settings already in local.settings.json that have nothing to do with
// the stores (MANAGEMENT_KEY, TELEMETRY_HASH_KEY, ports, ...) are kept; keys and connection strings
// of stores are removed, since any key would take precedence over Entra.
//
//   node infra/scripts/postprovision.mjs [--out <file>]   (default: ./local.settings.json)

import console from 'node:console';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Settings that would make the app use a key, a connection string or the deployed identity instead of the developer's sign-in. */
const REMOVED = /^(COSMOS_KEY|STORAGE_CONNECTION_STRING|EVENTGRID_TOPIC_KEY|STORAGE_ACCOUNT_URL|EVENTGRID_TOPIC_ENDPOINT|COSMOS_ENDPOINT|STORAGE_ACCOUNT_RESOURCE_ID|EVENTGRID_TOPIC_RESOURCE_ID)(__.+)?$|^AZURE_CLIENT_ID$/;

/**
 * The local.settings.json content for the provisioned environment `env` (azd's values), starting
 * from `existing` (the current file or the sample). Returns the settings and what the developer
 * should know.
 */
export function localSettingsFor(env, existing) {
  const required = ['COSMOS_ENDPOINT', 'ENABLED_GEOGRAPHY_KEYS', 'GEOGRAPHIES'];
  const missing = required.filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing azd environment values: ${missing.join(', ')} (run azd provision first)`);
  const geographies = JSON.parse(env.GEOGRAPHIES);
  const values = Object.fromEntries(Object.entries(existing.Values ?? {}).filter(([name]) => !REMOVED.test(name)));
  Object.assign(values, {
    COSMOS_ENDPOINT: env.COSMOS_ENDPOINT,
    ENABLED_GEOGRAPHIES: env.ENABLED_GEOGRAPHY_KEYS,
    STRICT_RESIDENCY: 'true',
    STORE_PROVISIONING: 'verify',
    EVENTGRID_SCHEMA: 'CloudEvents',
  });
  for (const g of geographies) {
    values[`COSMOS_ENDPOINT__${g.settingSuffix}`] = g.cosmosEndpoint;
    values[`STORAGE_ACCOUNT_URL__${g.settingSuffix}`] = g.storageAccountUrl;
    values[`STORAGE_ACCOUNT_RESOURCE_ID__${g.settingSuffix}`] = g.storageAccountId;
    values[`EVENTGRID_TOPIC_ENDPOINT__${g.settingSuffix}`] = g.topicEndpoint;
    values[`EVENTGRID_TOPIC_RESOURCE_ID__${g.settingSuffix}`] = g.topicId;
  }
  if (geographies.length > 0 && !geographies.some((g) => g.name === values.DEMO_RESOURCE_GEOGRAPHY || g.key === values.DEMO_RESOURCE_GEOGRAPHY)) {
    values.DEMO_RESOURCE_GEOGRAPHY = geographies[0].name;
  }
  const notes = [];
  if (env.DEVELOPER_DATA_ACCESS !== 'true') {
    notes.push('Your sign-in has no data access to these accounts yet: `azd env set DEVELOPER_DATA_ACCESS true` and `azd provision` grant it (the same roles as the app).');
  }
  if (env.VNET_ENABLED === 'true') {
    notes.push('VNET_ENABLED is true: the accounts accept only private endpoints, so this machine cannot reach them.');
  }
  return { settings: { ...existing, IsEncrypted: false, Values: values }, notes };
}

function main() {
  const outIndex = process.argv.indexOf('--out');
  const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : 'local.settings.json');
  const sample = resolve('local.settings.sample.json');
  const existing = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : existsSync(sample) ? JSON.parse(readFileSync(sample, 'utf8')) : {};
  const { settings, notes } = localSettingsFor(process.env, existing);
  writeFileSync(out, `${JSON.stringify(settings, null, 2)}\n`);
  console.log(`wrote ${out}: npm start now uses the provisioned stores of ${settings.Values.ENABLED_GEOGRAPHIES} (strict residency, your Entra sign-in)`);
  for (const note of notes) console.log(`note: ${note}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    console.error(`postprovision: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
