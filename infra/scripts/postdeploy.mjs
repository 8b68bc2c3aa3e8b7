// azd postdeploy hook: once the code is deployed (Event Grid refuses a subscription to a function
// that does not exist yet), subscribes each geography's landing container to the recordingLanding
// function by deploying infra/geo/landing-events.bicep into the geography's resource group with the
// Azure CLI (`az login` with the same account as azd). Idempotent: a rerun updates the subscription.
//
//   node infra/scripts/postdeploy.mjs [--dry-run]

import console from 'node:console';
import process from 'node:process';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const LANDING_TEMPLATE = 'infra/geo/landing-events.bicep';

/** One `az deployment group create` per geography: its arguments, from azd's environment values. */
export function landingDeployments(env) {
  const missing = ['GEOGRAPHIES', 'AZURE_FUNCTION_APP_ID', 'AZURE_IDENTITY_ID'].filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`missing azd environment values: ${missing.join(', ')} (run azd provision first)`);
  return JSON.parse(env.GEOGRAPHIES).map((g) => ({
    geography: g.name,
    parameters: {
      systemTopicName: g.systemTopicName,
      landingContainer: g.landingContainer,
      functionAppId: env.AZURE_FUNCTION_APP_ID,
      identityId: env.AZURE_IDENTITY_ID,
      deadLetterStorageAccountId: g.storageAccountId,
      deadLetterContainer: g.deadLetterContainer,
    },
    args: ['deployment', 'group', 'create', '--resource-group', g.resourceGroup, '--name', `landing-events-${g.key}`, '--template-file', LANDING_TEMPLATE, '--only-show-errors', '--output', 'none'],
  }));
}

function main() {
  const dryRun = process.argv.includes('--dry-run');
  for (const deployment of landingDeployments(process.env)) {
    const args = [...deployment.args, '--parameters', ...Object.entries(deployment.parameters).map(([name, value]) => `${name}=${value}`)];
    console.log(`${deployment.geography}: az ${args.join(' ')}`);
    if (dryRun) continue;
    const result = spawnSync('az', args, { stdio: 'inherit', shell: process.platform === 'win32' });
    if (result.status !== 0) throw new Error(`subscribing the landing container of ${deployment.geography} failed (az exit ${result.status ?? result.error?.message})`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (error) {
    console.error(`postdeploy: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
