import { describe, expect, it } from 'vitest';
import { infraCatalogue } from '../../local/infra-catalogue.js';
import { parseInfra, readInfraFile } from './support/bicep-parser.js';
import { azdUp, DEFAULT_AZD_ENV } from './support/azd-up.js';
import { boundaryProblems, settingsProblems, staticProblems, storeProblems, type ExpectedDeployment } from './support/invariants.js';

/**
 * The checks fail when a promise is broken: each case changes one template in memory (infra/ itself
 * is untouched), runs the same checks as the other infra tests, and expects the breakage named.
 */
const catalogue = infraCatalogue();
const expected: ExpectedDeployment = { catalogue, geographyKeys: ['europe', 'japan'], environmentName: DEFAULT_AZD_ENV.AZURE_ENV_NAME, location: DEFAULT_AZD_ENV.AZURE_LOCATION };

function edit(path: string, from: string | RegExp, to: string): Record<string, string> {
  const source = readInfraFile(path);
  const changed = source.replace(from, to);
  if (changed === source) throw new Error(`${path}: '${String(from)}' not found`);
  return { [path]: changed };
}

async function problemsAfter(overrides: Record<string, string>): Promise<string[]> {
  const files = await parseInfra(overrides);
  const found = staticProblems(files);
  try {
    const up = await azdUp(files, { ENABLED_GEOGRAPHIES: 'Europe,Japan' });
    found.push(...boundaryProblems(up, expected), ...storeProblems(up), ...settingsProblems(up, expected));
  } catch (error) {
    found.push(`azd up fails: ${error instanceof Error ? error.message : String(error)}`);
  }
  return found;
}

const cases: { breakage: string; overrides: () => Record<string, string>; expect: RegExp }[] = [
  {
    breakage: 'a geo-redundant storage SKU',
    overrides: () => edit('main.bicep', "sku: 'Standard_LRS'", "sku: 'Standard_GRS'"),
    expect: /geo-redundant storage SKU "Standard_GRS"|storage st\w+: SKU Standard_GRS/,
  },
  {
    breakage: 'a geo-redundant option allowed for the geographies\' storage',
    overrides: () => edit('main.bicep', "  'Standard_ZRS'\n])\nparam geoStorageSku", "  'Standard_ZRS'\n  'Standard_RAGZRS'\n])\nparam geoStorageSku"),
    expect: /geo-redundant storage SKU "Standard_RAGZRS"/,
  },
  {
    breakage: 'a missing Cosmos DB container',
    overrides: () => edit('geo/geography.bicep', 'containers: geoContainers', "containers: filter(geoContainers, c => c.id != 'legalHolds')"),
    expect: /Europe: container 'acs-europe\/legalHolds' is not declared/,
  },
  {
    breakage: 'a composite index dropped',
    overrides: () => edit('data/cosmos-account.bicep', 'compositeIndexes: container.compositeIndexes', 'compositeIndexes: []'),
    expect: /container 'chatThreads' lacks the composite index \(\/kind, \/resourceId, \/lastActivityAt\)/,
  },
  {
    breakage: 'the purge run markers kept forever',
    overrides: () => edit('data/cosmos-account.bicep', "{ defaultTtl: container.defaultTtl }", '{}'),
    expect: /control: container 'purgeRunItems' has time to live undefined; the app declares 604800/,
  },
  {
    breakage: 'a work queue missing',
    overrides: () => edit('main.bicep', 'queues: catalogue.hostQueues', "queues: filter(catalogue.hostQueues, q => q != 'work-chat-retention-poison')"),
    expect: /work queue 'work-chat-retention-poison' is not declared on st/,
  },
  {
    breakage: 'another partition key',
    overrides: () => edit('data/cosmos-account.bicep', 'container.partitionKey\n', "'/id'\n"),
    expect: /container 'chatThreads' has partition key \/id; the app uses \/threadId/,
  },
  {
    breakage: 'shared keys allowed',
    overrides: () => edit('data/storage-account.bicep', 'allowSharedKeyAccess: false', 'allowSharedKeyAccess: true'),
    expect: /shared key access is not off/,
  },
  {
    breakage: 'blob soft delete on',
    overrides: () => edit('data/storage-account.bicep', /deleteRetentionPolicy: \{\n {6}enabled: false/, 'deleteRetentionPolicy: {\n      enabled: true\n      days: 7'),
    expect: /blob soft delete is not off/,
  },
  {
    breakage: 'versioning on',
    overrides: () => edit('data/storage-account.bicep', 'isVersioningEnabled: false', 'isVersioningEnabled: true'),
    expect: /versioning is not off/,
  },
  {
    breakage: 'the recordings backstop a week late',
    overrides: () => edit('data/storage-account.bicep', 'daysAfterCreationGreaterThan: rule.days', 'daysAfterCreationGreaterThan: rule.days + 7'),
    expect: /lifecycle rule deletes acs-europe-recordings after 9 days; the README promises 2/,
  },
  {
    breakage: 'Cosmos DB keys left on',
    overrides: () => edit('data/cosmos-account.bicep', 'disableLocalAuth: true', 'disableLocalAuth: false'),
    expect: /local \(key\) auth is not disabled/,
  },
  {
    breakage: 'geo-redundant Cosmos DB backups',
    overrides: () => edit('data/cosmos-account.bicep', 'backupStorageRedundancy: backupRedundancy', "backupStorageRedundancy: 'Geo'"),
    expect: /geo-redundant backup storage \('Geo'\)|backups are not periodic with Local or Zone/,
  },
  {
    breakage: 'a Cosmos DB replica outside the geography',
    overrides: () => edit('geo/geography.bicep', 'regions: geography.regions\n    tags', "regions: concat(geography.regions, ['eastus'])\n    tags"),
    expect: /Europe: Cosmos DB locations northeurope, westeurope, eastus differ from the geography table/,
  },
  {
    breakage: 'the Cosmos DB location policy missing',
    overrides: () => edit('geo/policies.bicep', "resource cosmosLocationPolicy 'Microsoft.Authorization/policyAssignments@2025-03-01' = {", "resource cosmosLocationPolicy 'Microsoft.Authorization/policyAssignments@2025-03-01' = if (false) {"),
    expect: /Japan: 0 'cosmosAllowedLocations' policy assignments/,
  },
  {
    breakage: 'a topic whose data may leave the region',
    overrides: () => edit('geo/events.bicep', "dataResidencyBoundary: 'WithinRegion'", "dataResidencyBoundary: 'WithinGeopair'"),
    expect: /data residency boundary is WithinGeopair/,
  },
  {
    breakage: 'a role assignment without principalType',
    overrides: () => edit('geo/events.bicep', 'principalType: principal.principalType', "principalType: 'User'"),
    expect: /for the app identity has principalType User, not ServicePrincipal/,
  },
  {
    breakage: 'a geography without its own topic endpoint setting',
    overrides: () => edit('geo/geography.bicep', "{ name: 'EVENTGRID_TOPIC_ENDPOINT__${suffix}', value: events.outputs.topicEndpoint }\n", ''),
    expect: /the deployed app would not start: Invalid settings:\n {2}- STRICT_RESIDENCY: Europe has no account of its own: set EVENTGRID_TOPIC_ENDPOINT__EUROPE/,
  },
  {
    breakage: 'strict residency left to the default but store provisioning set to create',
    overrides: () => edit('app/function-app.bicep', "value: 'verify'", "value: 'create'"),
    expect: /STORE_PROVISIONING is not verify/,
  },
  {
    breakage: 'an outdated API version',
    overrides: () => edit('geo/events.bicep', "'Microsoft.EventGrid/topics@2025-02-15'", "'Microsoft.EventGrid/topics@2020-06-01'"),
    expect: /Microsoft.EventGrid\/topics@2020-06-01 is not the allowed API version 2025-02-15/,
  },
  {
    breakage: 'a syntax error',
    overrides: () => edit('geo/policies.bicep', 'enforcementMode: \'Default\'\n    parameters: {', "enforcementMode: 'Default'\n    parameters: {{"),
    expect: /geo\/policies.bicep:\d+:\d+: syntax (ERROR|MISSING)/,
  },
];

describe('the infrastructure checks catch a broken promise', () => {
  it('finds nothing wrong in infra/ as committed', async () => {
    expect(await problemsAfter({})).toEqual([]);
  });

  it.each(cases)('$breakage', async ({ overrides, expect: pattern }) => {
    const problems = await problemsAfter(overrides());
    expect(problems.join('\n')).toMatch(pattern);
  });
});
