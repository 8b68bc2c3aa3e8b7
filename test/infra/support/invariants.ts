import { ALL_WORK_QUEUES } from '../../../shared/queues/work-queues.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InfraCatalogue } from '../../../local/infra-catalogue.js';
import { parseSettings } from '../../../shared/config/settings.js';
import { storeCatalogue } from '../../../shared/stores/store-catalogue.js';
import { REPO_ROOT, resourceDeclarations, stringFragments, syntaxProblems, type BicepFile } from './bicep-parser.js';
import { runtimeProperties, toJson, type SimulatedResource } from './bicep-evaluator.js';
import type { AzdUp } from './azd-up.js';

/**
 * The promises of the infrastructure as checks: each returns one line per broken promise, empty when
 * all hold. The tests assert them empty for infra/ as committed, and not empty for deliberately broken
 * copies (invariant-breakage.test.ts).
 */

/** Resource types the templates may use, each at the one API version chosen (current stable versions, see README "Deploy"). */
export const ALLOWED_API_VERSIONS: Record<string, string> = {
  'Microsoft.Resources/resourceGroups': '2025-04-01',
  'Microsoft.ManagedIdentity/userAssignedIdentities': '2024-11-30',
  'Microsoft.OperationalInsights/workspaces': '2025-02-01',
  'Microsoft.Insights/components': '2020-02-02',
  'Microsoft.Storage/storageAccounts': '2025-01-01',
  'Microsoft.Storage/storageAccounts/blobServices': '2025-01-01',
  'Microsoft.Storage/storageAccounts/blobServices/containers': '2025-01-01',
  'Microsoft.Storage/storageAccounts/managementPolicies': '2025-01-01',
  'Microsoft.Storage/storageAccounts/queueServices': '2025-01-01',
  'Microsoft.Storage/storageAccounts/queueServices/queues': '2025-01-01',
  'Microsoft.DocumentDB/databaseAccounts': '2025-04-15',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases': '2025-04-15',
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers': '2025-04-15',
  'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments': '2025-04-15',
  'Microsoft.EventGrid/topics': '2025-02-15',
  'Microsoft.EventGrid/systemTopics': '2025-02-15',
  'Microsoft.EventGrid/systemTopics/eventSubscriptions': '2025-02-15',
  'Microsoft.Web/serverfarms': '2024-11-01',
  'Microsoft.Web/sites': '2024-11-01',
  'Microsoft.Web/sites/basicPublishingCredentialsPolicies': '2024-11-01',
  'Microsoft.Web/sites/config': '2024-11-01',
  'Microsoft.Authorization/roleAssignments': '2022-04-01',
  'Microsoft.Authorization/policyAssignments': '2025-03-01',
  'Microsoft.Network/virtualNetworks': '2024-05-01',
  'Microsoft.Network/privateEndpoints': '2024-05-01',
  'Microsoft.Network/privateEndpoints/privateDnsZoneGroups': '2024-05-01',
  'Microsoft.Network/privateDnsZones': '2024-06-01',
  'Microsoft.Network/privateDnsZones/virtualNetworkLinks': '2024-06-01',
};

export const ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb',
  eventGridDataSender: 'd5a91429-5739-47e2-a06b-3470a27159e7',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  cosmosDataContributor: '00000000-0000-0000-0000-000000000002',
} as const;

export const POLICIES = {
  allowedLocations: 'e56962a6-4747-49cd-b67b-bf8b01975c4c',
  cosmosAllowedLocations: '0473574d-2d43-4217-aefe-941fcdf7e684',
} as const;

/** What the issue and the README promise for the lifecycle backstops, in days after creation. */
export const PROMISED_BACKSTOP_DAYS: Record<string, number> = { recordings: 2, 'recording-landing': 2, exports: 7, 'email-content': 2 };

const GEO_REDUNDANT = /(^|[^A-Za-z])(Standard_GRS|Standard_RAGRS|Standard_GZRS|Standard_RAGZRS)\b|_(RA)?G(Z)?RS\b/;

// ---------------------------------------------------------------- static checks (parse tree)

export function staticProblems(files: Map<string, BicepFile>): string[] {
  const problems: string[] = [];
  for (const file of files.values()) {
    for (const p of syntaxProblems(file)) problems.push(`${p.path}:${p.line}:${p.column}: syntax ${p.kind} at ${JSON.stringify(p.text)}`);
    for (const declaration of resourceDeclarations(file)) {
      const allowed = ALLOWED_API_VERSIONS[declaration.type];
      if (!allowed) problems.push(`${file.path}:${declaration.line}: resource type ${declaration.type} is not in the allow-list`);
      else if (declaration.apiVersion !== allowed) problems.push(`${file.path}:${declaration.line}: ${declaration.type}@${declaration.apiVersion} is not the allowed API version ${allowed}`);
    }
    for (const fragment of stringFragments(file)) {
      if (GEO_REDUNDANT.test(fragment.text)) problems.push(`${file.path}:${fragment.line}: geo-redundant storage SKU ${JSON.stringify(fragment.text)}`);
      if (/^geo$/i.test(fragment.text)) problems.push(`${file.path}:${fragment.line}: geo-redundant backup storage ('${fragment.text}')`);
    }
    if (/\blist(Keys|ConnectionStrings|AccountSas|ServiceSas)\s*\(/.test(file.source)) problems.push(`${file.path}: reads keys (list*() functions)`);
    if (/AccountKey=|SharedAccessKey|SharedAccessSignature|DefaultEndpointsProtocol=|AccessKey=/i.test(file.source)) problems.push(`${file.path}: builds a key-based connection string`);
  }
  return problems;
}

// ---------------------------------------------------------------- the deployed shape

const props = (r: SimulatedResource) => (toJson(r.body.properties ?? {}) ?? {}) as Record<string, any>;
const byType = (up: AzdUp, type: string) => up.resources.filter((r) => r.type === type && !r.existing);
const groupOf = (r: SimulatedResource) => r.scope.resourceGroup ?? '';
const lastSegment = (id: string) => id.split('/').at(-1) ?? '';

export interface ExpectedDeployment {
  catalogue: InfraCatalogue;
  /** Geography keys ENABLED_GEOGRAPHIES names. */
  geographyKeys: string[];
  environmentName: string;
  location: string;
}

export function geographyGroup(expected: ExpectedDeployment, key: string) {
  return `rg-${expected.environmentName}-${key}`;
}

/** Every promise about where data lives, how it is deleted and who may reach it. */
export function boundaryProblems(up: AzdUp, expected: ExpectedDeployment): string[] {
  const problems: string[] = [];
  const { catalogue } = expected;
  const sharedGroup = `rg-${expected.environmentName}`;
  const groups = byType(up, 'Microsoft.Resources/resourceGroups');
  const geoGroups = new Map(expected.geographyKeys.map((key) => [geographyGroup(expected, key), catalogue.geographies[key]!]));
  const expectedGroups = [sharedGroup, ...geoGroups.keys()].sort();
  const actualGroups = groups.map((g) => g.name).sort();
  if (JSON.stringify(actualGroups) !== JSON.stringify(expectedGroups)) problems.push(`resource groups are ${actualGroups.join(', ')}; expected ${expectedGroups.join(', ')} (one per enabled geography)`);
  for (const group of groups) {
    const geography = geoGroups.get(group.name);
    if (geography && group.body.location !== geography.regions[0]) problems.push(`${group.name} is in ${String(group.body.location)}, not ${geography.name}'s primary region ${geography.regions[0]}`);
  }

  // Everything in a geography's group sits in that geography's regions.
  for (const resource of up.resources) {
    const geography = geoGroups.get(groupOf(resource));
    const location = resource.body.location;
    if (geography && typeof location === 'string' && location !== 'global' && !geography.regions.includes(location)) {
      problems.push(`${resource.type} ${resource.name} in ${groupOf(resource)} is in ${location}, outside ${geography.name} (${geography.regions.join(', ')})`);
    }
  }
  for (const resource of up.resources) {
    if (!groupOf(resource) || resource.type === 'Microsoft.Resources/resourceGroups' || resource.existing) continue;
    if (groupOf(resource) !== sharedGroup && !geoGroups.has(groupOf(resource))) problems.push(`${resource.type} ${resource.name} is in ${groupOf(resource)}, which is neither the shared group nor a geography's`);
  }

  problems.push(...storageProblems(up, expected, geoGroups, sharedGroup));
  problems.push(...cosmosProblems(up, expected, geoGroups, sharedGroup));
  problems.push(...eventProblems(up, expected, geoGroups));
  problems.push(...policyProblems(up, geoGroups));
  problems.push(...accessProblems(up, geoGroups, sharedGroup));
  problems.push(...appProblems(up, sharedGroup));
  return problems;
}

function storageProblems(up: AzdUp, expected: ExpectedDeployment, geoGroups: Map<string, InfraCatalogue['geographies'][string]>, sharedGroup: string): string[] {
  const problems: string[] = [];
  const accounts = byType(up, 'Microsoft.Storage/storageAccounts');
  for (const account of accounts) {
    const p = props(account);
    const sku = (toJson(account.body.sku ?? null) as { name?: string } | null)?.name;
    if (sku !== 'Standard_LRS' && sku !== 'Standard_ZRS') problems.push(`storage ${account.name}: SKU ${String(sku)} (only Standard_LRS or Standard_ZRS keep every copy in the region)`);
    if (p.allowSharedKeyAccess !== false) problems.push(`storage ${account.name}: shared key access is not off`);
    if (p.allowBlobPublicAccess !== false) problems.push(`storage ${account.name}: public blob access is not off`);
    if (p.allowCrossTenantReplication !== false) problems.push(`storage ${account.name}: cross-tenant replication is not off`);
    if (p.minimumTlsVersion !== 'TLS1_2') problems.push(`storage ${account.name}: minimum TLS is not 1.2`);
    const blobService = up.resources.find((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices' && r.name === `${account.name}/default`);
    if (!blobService) {
      problems.push(`storage ${account.name}: no blobServices declaration (soft delete and versioning must be declared off)`);
    } else {
      const b = props(blobService);
      if (b.deleteRetentionPolicy?.enabled !== false) problems.push(`storage ${account.name}: blob soft delete is not off`);
      if (b.containerDeleteRetentionPolicy?.enabled !== false) problems.push(`storage ${account.name}: container soft delete is not off`);
      if (b.isVersioningEnabled !== false) problems.push(`storage ${account.name}: versioning is not off`);
      if (b.restorePolicy?.enabled === true) problems.push(`storage ${account.name}: point-in-time restore is on`);
    }
  }
  for (const [group, geography] of geoGroups) {
    const own = accounts.filter((a) => groupOf(a) === group);
    if (own.length !== 1) {
      problems.push(`${geography.name}: ${own.length} storage accounts in ${group} (expected 1)`);
      continue;
    }
    const account = own[0]!;
    const containers = up.resources.filter((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers' && r.name.startsWith(`${account.name}/default/`)).map((r) => lastSegment(r.name));
    const policy = up.resources.find((r) => r.type === 'Microsoft.Storage/storageAccounts/managementPolicies' && r.name === `${account.name}/default`);
    const rules = ((policy ? props(policy).policy?.rules : undefined) ?? []) as any[];
    for (const container of geography.blobContainers) {
      if (!containers.includes(container.name)) problems.push(`${geography.name}: blob container ${container.name} is not declared`);
      const promised = PROMISED_BACKSTOP_DAYS[container.role];
      const matching = rules.filter((rule) => rule?.enabled !== false && (rule?.definition?.filters?.prefixMatch ?? []).includes(`${container.name}/`));
      if (promised === undefined) continue;
      const days = matching.map((rule) => rule.definition?.actions?.baseBlob?.delete?.daysAfterCreationGreaterThan);
      if (matching.length !== 1) problems.push(`${geography.name}: ${matching.length} lifecycle rules for ${container.name} (expected one deleting after ${promised} days)`);
      else if (days[0] !== promised || container.deleteAfterDays !== promised) problems.push(`${geography.name}: lifecycle rule deletes ${container.name} after ${String(days[0])} days; the README promises ${promised}`);
      else if (!(matching[0].definition?.filters?.blobTypes ?? []).includes('blockBlob')) problems.push(`${geography.name}: lifecycle rule for ${container.name} does not cover block blobs`);
    }
  }
  const host = accounts.filter((a) => groupOf(a) === sharedGroup);
  if (host.length !== 1) problems.push(`${host.length} storage accounts in the shared group (expected the host storage only)`);
  void expected;
  return problems;
}

function cosmosProblems(up: AzdUp, expected: ExpectedDeployment, geoGroups: Map<string, InfraCatalogue['geographies'][string]>, sharedGroup: string): string[] {
  const problems: string[] = [];
  const accounts = byType(up, 'Microsoft.DocumentDB/databaseAccounts');
  for (const account of accounts) {
    const p = props(account);
    if (p.disableLocalAuth !== true) problems.push(`cosmos ${account.name}: local (key) auth is not disabled`);
    if (p.disableKeyBasedMetadataWriteAccess !== true) problems.push(`cosmos ${account.name}: key-based metadata writes are not disabled`);
    if (p.enableMultipleWriteLocations !== false) problems.push(`cosmos ${account.name}: more than one write region is allowed`);
    const backup = p.backupPolicy;
    if (backup?.type !== 'Periodic' || !['Local', 'Zone'].includes(backup?.periodicModeProperties?.backupStorageRedundancy)) {
      problems.push(`cosmos ${account.name}: backups are not periodic with Local or Zone redundancy (${JSON.stringify(backup ?? null)})`);
    }
  }
  const locationsOf = (account: SimulatedResource) =>
    ((props(account).locations ?? []) as { locationName: string; failoverPriority: number }[]).slice().sort((a, b) => a.failoverPriority - b.failoverPriority);
  for (const [group, geography] of geoGroups) {
    const own = accounts.filter((a) => groupOf(a) === group);
    if (own.length !== 1) {
      problems.push(`${geography.name}: ${own.length} Cosmos DB accounts in ${group} (expected 1)`);
      continue;
    }
    const account = own[0]!;
    const locations = locationsOf(account);
    const names = locations.map((l) => l.locationName);
    if (JSON.stringify(names) !== JSON.stringify(geography.regions)) problems.push(`${geography.name}: Cosmos DB locations ${names.join(', ')} differ from the geography table (${geography.regions.join(', ')})`);
    if (locations.some((l, i) => l.failoverPriority !== i)) problems.push(`${geography.name}: Cosmos DB failover priorities are not 0..${locations.length - 1}`);
    if (account.body.location !== geography.regions[0]) problems.push(`${geography.name}: Cosmos DB account is in ${String(account.body.location)}, not the primary region`);
  }
  const control = accounts.filter((a) => groupOf(a) === sharedGroup);
  if (control.length !== 1) problems.push(`${control.length} Cosmos DB accounts in the shared group (expected the control account)`);
  else if (JSON.stringify(locationsOf(control[0]!).map((l) => l.locationName)) !== JSON.stringify([expected.location])) problems.push(`the control Cosmos DB account is not in ${expected.location} alone`);
  return problems;
}

function eventProblems(up: AzdUp, expected: ExpectedDeployment, geoGroups: Map<string, InfraCatalogue['geographies'][string]>): string[] {
  const problems: string[] = [];
  const topics = byType(up, 'Microsoft.EventGrid/topics');
  for (const topic of topics) {
    const p = props(topic);
    if (p.inputSchema !== 'CloudEventSchemaV1_0') problems.push(`topic ${topic.name}: input schema is ${String(p.inputSchema)}, not CloudEvents 1.0`);
    if (p.disableLocalAuth !== true) problems.push(`topic ${topic.name}: local (key) auth is not disabled`);
    if (p.dataResidencyBoundary !== 'WithinRegion') problems.push(`topic ${topic.name}: data residency boundary is ${String(p.dataResidencyBoundary)}, not WithinRegion`);
  }
  const functionNames = eventGridFunctionNames();
  const sites = byType(up, 'Microsoft.Web/sites');
  for (const [group, geography] of geoGroups) {
    if (topics.filter((t) => groupOf(t) === group).length !== 1) problems.push(`${geography.name}: expected one Event Grid topic in ${group}`);
    const storage = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => groupOf(a) === group);
    const systemTopics = byType(up, 'Microsoft.EventGrid/systemTopics').filter((t) => groupOf(t) === group);
    if (systemTopics.length !== 1 || !storage) {
      problems.push(`${geography.name}: expected one system topic on its storage account`);
      continue;
    }
    const systemTopic = systemTopics[0]!;
    const sp = props(systemTopic);
    if (sp.source !== storage.id || sp.topicType !== 'Microsoft.Storage.StorageAccounts') problems.push(`${geography.name}: the system topic does not watch ${storage.name}`);
    const landing = geography.blobContainers.find((c) => c.role === 'recording-landing')!.name;
    const subscriptions = up.resources.filter((r) => r.type === 'Microsoft.EventGrid/systemTopics/eventSubscriptions' && r.name.startsWith(`${systemTopic.name}/`));
    const toLanding = subscriptions.filter((s) => props(s).filter?.subjectBeginsWith === `/blobServices/default/containers/${landing}/`);
    if (toLanding.length !== 1) {
      problems.push(`${geography.name}: ${toLanding.length} event subscriptions for ${landing} (expected 1)`);
      continue;
    }
    const s = props(toLanding[0]!);
    if (JSON.stringify(s.filter?.includedEventTypes) !== JSON.stringify(['Microsoft.Storage.BlobCreated'])) problems.push(`${geography.name}: the landing subscription is not for Microsoft.Storage.BlobCreated only`);
    const target = s.destination?.properties?.resourceId as string | undefined;
    const [siteId, functionName] = (target ?? '').split('/functions/');
    if (s.destination?.endpointType !== 'AzureFunction' || !sites.some((site) => site.id === siteId) || !functionNames.includes(functionName ?? '') || functionName !== 'recordingLanding') {
      problems.push(`${geography.name}: the landing subscription does not deliver to the app's recordingLanding function (${String(target)})`);
    }
    const deadLetter = s.deadLetterWithResourceIdentity?.deadLetterDestination?.properties;
    const containers = up.resources.filter((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers').map((r) => r.name);
    if (!deadLetter || deadLetter.resourceId !== storage.id || !containers.includes(`${storage.name}/default/${String(deadLetter.blobContainerName)}`)) {
      problems.push(`${geography.name}: undeliverable landing events are not dead-lettered into a container of its own storage account`);
    }
  }
  void expected;
  return problems;
}

/** Names of the app's Event Grid triggered functions (functions/*.ts). */
export function eventGridFunctionNames(): string[] {
  const dir = join(REPO_ROOT, 'functions');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/app\.eventGrid\(\s*'([^']+)'/g)].map((m) => m[1]!));
}

function policyProblems(up: AzdUp, geoGroups: Map<string, InfraCatalogue['geographies'][string]>): string[] {
  const problems: string[] = [];
  const assignments = byType(up, 'Microsoft.Authorization/policyAssignments');
  for (const [group, geography] of geoGroups) {
    for (const [label, definition] of Object.entries(POLICIES)) {
      const own = assignments.filter((a) => groupOf(a) === group && a.appliesTo.endsWith(`/resourceGroups/${group}`) && props(a).policyDefinitionId === `/providers/Microsoft.Authorization/policyDefinitions/${definition}`);
      if (own.length !== 1) {
        problems.push(`${geography.name}: ${own.length} '${label}' policy assignments on ${group} (expected 1)`);
        continue;
      }
      const p = props(own[0]!);
      const allowed = (p.parameters?.listOfAllowedLocations?.value ?? []) as string[];
      if (JSON.stringify([...allowed].sort()) !== JSON.stringify([...geography.regions].sort())) problems.push(`${geography.name}: '${label}' allows ${allowed.join(', ')}, not ${geography.regions.join(', ')}`);
      if (p.enforcementMode !== undefined && p.enforcementMode !== 'Default') problems.push(`${geography.name}: '${label}' is not enforced`);
      const effect = p.parameters?.policyEffect?.value;
      if (effect !== undefined && effect !== 'deny') problems.push(`${geography.name}: '${label}' only ${String(effect)}s`);
    }
  }
  return problems;
}

function accessProblems(up: AzdUp, geoGroups: Map<string, InfraCatalogue['geographies'][string]>, sharedGroup: string): string[] {
  const problems: string[] = [];
  const identity = byType(up, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  if (identity.length !== 1) return [`expected one user-assigned identity, found ${identity.length}`];
  if (up.env.AZURE_IDENTITY_ID !== identity[0]!.id) problems.push('AZURE_IDENTITY_ID is not the app identity');
  const principal = runtimeProperties(identity[0]!).principalId;
  const roleAssignments = byType(up, 'Microsoft.Authorization/roleAssignments');
  for (const assignment of roleAssignments) {
    const p = props(assignment);
    if (p.principalId === principal && p.principalType !== 'ServicePrincipal') problems.push(`role assignment ${assignment.name} for the app identity has principalType ${String(p.principalType)}, not ServicePrincipal`);
  }
  const has = (scopeId: string, role: string) =>
    roleAssignments.some((a) => a.appliesTo === scopeId && props(a).principalId === principal && String(props(a).roleDefinitionId).endsWith(`/roleDefinitions/${role}`));
  const hasCosmos = (account: SimulatedResource) =>
    up.resources.some((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments' && r.name.startsWith(`${account.name}/`) && props(r).principalId === principal && props(r).roleDefinitionId === `${account.id}/sqlRoleDefinitions/${ROLES.cosmosDataContributor}` && props(r).scope === account.id);
  for (const [group, geography] of geoGroups) {
    const storage = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => groupOf(a) === group);
    const topic = byType(up, 'Microsoft.EventGrid/topics').find((a) => groupOf(a) === group);
    const cosmos = byType(up, 'Microsoft.DocumentDB/databaseAccounts').find((a) => groupOf(a) === group);
    if (storage && !has(storage.id, ROLES.storageBlobDataOwner)) problems.push(`${geography.name}: the app identity is not Storage Blob Data Owner of ${storage.name}`);
    if (topic && !has(topic.id, ROLES.eventGridDataSender)) problems.push(`${geography.name}: the app identity is not EventGrid Data Sender of ${topic.name}`);
    if (cosmos && !hasCosmos(cosmos)) problems.push(`${geography.name}: the app identity is not Cosmos DB Data Contributor of ${cosmos.name}`);
    const groupResource = byType(up, 'Microsoft.Resources/resourceGroups').find((g) => g.name === group);
    if (groupResource && !has(groupResource.id, ROLES.reader)) problems.push(`${geography.name}: the app identity is not Reader of ${group} (the residency audit reads account locations)`);
  }
  const host = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => groupOf(a) === sharedGroup);
  if (host && !has(host.id, ROLES.storageBlobDataOwner)) problems.push('the app identity is not Storage Blob Data Owner of the host storage');
  if (host && !has(host.id, ROLES.storageQueueDataContributor)) problems.push('the app identity is not Storage Queue Data Contributor of the host storage (its work queues)');
  const control = byType(up, 'Microsoft.DocumentDB/databaseAccounts').find((a) => groupOf(a) === sharedGroup);
  if (control && !hasCosmos(control)) problems.push('the app identity is not Cosmos DB Data Contributor of the control account');
  const insights = byType(up, 'Microsoft.Insights/components')[0];
  if (insights && !has(insights.id, ROLES.monitoringMetricsPublisher)) problems.push('the app identity cannot publish to Application Insights');
  return problems;
}

function appProblems(up: AzdUp, sharedGroup: string): string[] {
  const problems: string[] = [];
  const insights = byType(up, 'Microsoft.Insights/components');
  for (const component of insights) if (props(component).DisableLocalAuth !== true) problems.push(`Application Insights ${component.name}: local auth is not disabled`);
  for (const workspace of byType(up, 'Microsoft.OperationalInsights/workspaces')) if (props(workspace).features?.disableLocalAuth !== true) problems.push(`Log Analytics ${workspace.name}: local auth is not disabled`);
  const sites = byType(up, 'Microsoft.Web/sites');
  for (const site of sites) {
    const p = props(site);
    if (site.body.kind !== 'functionapp,linux') problems.push(`site ${site.name}: kind is ${String(site.body.kind)}`);
    const runtime = p.functionAppConfig?.runtime;
    if (runtime?.name !== 'node' || runtime?.version !== '22') problems.push(`site ${site.name}: runtime is ${JSON.stringify(runtime)}, not Node.js 22`);
    const deployment = p.functionAppConfig?.deployment?.storage;
    if (deployment?.authentication?.type !== 'UserAssignedIdentity') problems.push(`site ${site.name}: the deployment container is not reached with the identity`);
    const plan = byType(up, 'Microsoft.Web/serverfarms').find((f) => f.id === p.serverFarmId);
    if ((toJson(plan?.body.sku ?? null) as { tier?: string } | null)?.tier !== 'FlexConsumption') problems.push(`site ${site.name}: not on a Flex Consumption plan`);
    if ((toJson(site.body.tags ?? {}) as Record<string, string>)['azd-service-name'] !== 'api') problems.push(`site ${site.name}: no azd-service-name tag 'api' (azd deploy would not find it)`);
    if (groupOf(site) !== sharedGroup) problems.push(`site ${site.name} is not in the shared group`);
  }
  // Outputs end up in .azure/<env>/.env: no secret may be among them.
  for (const secret of Object.values(up.generated)) {
    for (const [name, value] of Object.entries(up.main.outputs)) if (JSON.stringify(toJson(value)).includes(secret)) problems.push(`output ${name} contains a secret`);
  }
  return problems;
}

// ---------------------------------------------------------------- what the app needs

/** Strict residency as the deployed app reads its settings (WEBSITE_INSTANCE_ID is set in Azure). */
export function parseDeployedSettings(up: AzdUp) {
  return parseSettings({ ...up.appSettings, WEBSITE_INSTANCE_ID: 'simulated-instance', WEBSITE_HOSTNAME: 'simulated.azurewebsites.net' });
}

const KEYED = /^(COSMOS_KEY|STORAGE_CONNECTION_STRING|EVENTGRID_TOPIC_KEY)(__|$)|^AzureWebJobsStorage$|^(FUNCTIONS_WORKER_RUNTIME|FUNCTIONS_EXTENSION_VERSION|WEBSITE_RUN_FROM_PACKAGE|WEBSITE_CONTENTAZUREFILECONNECTIONSTRING|WEBSITE_CONTENTSHARE)$/;

/** The settings the app needs in strict mode are set, point at the right accounts, and carry no key. */
export function settingsProblems(up: AzdUp, expected: ExpectedDeployment): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(up.appSettings)) if (KEYED.test(name)) problems.push(`app setting ${name} must not be set (keys, connection strings or settings Flex Consumption rejects)`);
  let settings: ReturnType<typeof parseSettings>;
  try {
    settings = parseDeployedSettings(up);
  } catch (error) {
    return [...problems, `the deployed app would not start: ${error instanceof Error ? error.message : String(error)}`];
  }
  if (!settings.strictResidency) problems.push('strict residency is off');
  if (settings.storeProvisioning !== 'verify') problems.push('STORE_PROVISIONING is not verify');
  if (JSON.stringify(settings.enabledGeographies) !== JSON.stringify(expected.geographyKeys)) problems.push(`ENABLED_GEOGRAPHIES is ${settings.enabledGeographies.join(',')}, expected ${expected.geographyKeys.join(',')}`);
  for (const endpoints of [settings.defaults, ...Object.values(settings.geographies)]) {
    if (endpoints.cosmosKey || endpoints.eventGridKey || endpoints.storageConnectionString) problems.push('a store key or connection string is set');
  }
  const identities = byType(up, 'Microsoft.ManagedIdentity/userAssignedIdentities');
  if (identities.length === 1 && !up.appSettings.AZURE_CLIENT_ID) problems.push('AZURE_CLIENT_ID is not set');
  if (up.appSettings.AzureWebJobsStorage__credential !== 'managedidentity' || up.appSettings.AzureWebJobsStorage__clientId !== up.appSettings.AZURE_CLIENT_ID) problems.push('the host storage is not reached with the identity');
  if (!/^ClientId=[^;]+;Authorization=AAD$/.test(up.appSettings.APPLICATIONINSIGHTS_AUTHENTICATION_STRING ?? '')) problems.push('telemetry is not sent with the identity (APPLICATIONINSIGHTS_AUTHENTICATION_STRING)');
  const topics = byType(up, 'Microsoft.EventGrid/topics');
  const schema = up.appSettings.EVENTGRID_SCHEMA ?? 'CloudEvents';
  if (schema === 'CloudEvents' && topics.some((t) => props(t).inputSchema !== 'CloudEventSchemaV1_0')) problems.push('the app publishes CloudEvents to a topic that does not accept them');
  const control = byType(up, 'Microsoft.DocumentDB/databaseAccounts').find((a) => groupOf(a) === `rg-${expected.environmentName}`);
  if (control && settings.defaults.cosmosEndpoint !== `https://${control.name}.documents.azure.com:443/`) problems.push('COSMOS_ENDPOINT is not the control account');
  for (const key of expected.geographyKeys) {
    const group = geographyGroup(expected, key);
    const own = settings.geographies[key] ?? {};
    const name = expected.catalogue.geographies[key]!.name;
    const cosmos = byType(up, 'Microsoft.DocumentDB/databaseAccounts').find((a) => groupOf(a) === group);
    const storage = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => groupOf(a) === group);
    const topic = topics.find((t) => groupOf(t) === group);
    if (!cosmos || own.cosmosEndpoint !== `https://${cosmos.name}.documents.azure.com:443/`) problems.push(`${name}: COSMOS_ENDPOINT__${key.toUpperCase()} is not its own account`);
    if (!storage || own.storageAccountUrl !== `https://${storage.name}.blob.core.windows.net/` || own.storageAccountResourceId !== storage.id) problems.push(`${name}: STORAGE_ACCOUNT_URL__${key.toUpperCase()} / _RESOURCE_ID are not its own account`);
    if (!topic || !own.eventGridEndpoint?.startsWith(`https://${topic.name}.`) || own.eventGridTopicResourceId !== topic.id) problems.push(`${name}: EVENTGRID_TOPIC_ENDPOINT__${key.toUpperCase()} / _RESOURCE_ID are not its own topic`);
  }
  return problems;
}

/** Every database, container, partition key, composite index and blob container of `storeCatalogue` is declared, on the account the app will use. */
export function storeProblems(up: AzdUp): string[] {
  let settings: ReturnType<typeof parseSettings>;
  try {
    settings = parseDeployedSettings(up);
  } catch (error) {
    return [`the deployed app would not start: ${error instanceof Error ? error.message : String(error)}`];
  }
  const problems: string[] = [];
  const catalogue = storeCatalogue(settings);
  const accountByEndpoint = (endpoint: string) => byType(up, 'Microsoft.DocumentDB/databaseAccounts').find((a) => endpoint === `https://${a.name}.documents.azure.com:443/`);
  const databases = [{ owner: 'control', ...catalogue.control }, ...catalogue.geographies.map((g) => ({ owner: g.geography, ...g }))];
  for (const declared of databases) {
    const account = accountByEndpoint(declared.cosmosEndpoint);
    if (!account) {
      problems.push(`${declared.owner}: no Cosmos DB account at ${declared.cosmosEndpoint}`);
      continue;
    }
    const database = up.resources.find((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases' && r.name === `${account.name}/${declared.database}`);
    if (!database) {
      problems.push(`${declared.owner}: database '${declared.database}' is not declared on ${account.name}`);
      continue;
    }
    const containers = up.resources.filter((r) => r.type === 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers' && r.name.startsWith(`${database.name}/`));
    for (const container of declared.containers) {
      const found = containers.find((c) => lastSegment(c.name) === container.id);
      if (!found) {
        problems.push(`${declared.owner}: container '${declared.database}/${container.id}' is not declared`);
        continue;
      }
      const resource = props(found).resource ?? {};
      if (resource.id !== container.id) problems.push(`${declared.owner}: container '${container.id}' has resource id ${String(resource.id)}`);
      const paths = resource.partitionKey?.paths ?? [];
      if (paths.length !== 1 || paths[0] !== container.partitionKey) problems.push(`${declared.owner}: container '${container.id}' has partition key ${paths.join(', ')}; the app uses ${container.partitionKey}`);
      const indexes = ((resource.indexingPolicy?.compositeIndexes ?? []) as { path: string; order?: string }[][]).map((index) => index.map((e) => `${e.path}:${e.order ?? 'ascending'}`).join(','));
      for (const composite of container.compositeIndexes) {
        if (!indexes.includes(composite.map((path) => `${path}:ascending`).join(','))) problems.push(`${declared.owner}: container '${container.id}' lacks the composite index (${composite.join(', ')})`);
      }
      if (container.defaultTtl !== undefined && resource.defaultTtl !== container.defaultTtl) problems.push(`${declared.owner}: container '${container.id}' has time to live ${String(resource.defaultTtl)}; the app declares ${container.defaultTtl}`);
    }
  }
  // The work queues live in the Functions host's storage (AzureWebJobsStorage__queueServiceUri): the app never creates them in Azure.
  const hostQueues = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => up.appSettings.AzureWebJobsStorage__queueServiceUri === `https://${a.name}.queue.core.windows.net/`);
  if (!hostQueues) problems.push(`no storage account at AzureWebJobsStorage__queueServiceUri (${String(up.appSettings.AzureWebJobsStorage__queueServiceUri)})`);
  for (const queue of ALL_WORK_QUEUES) {
    if (hostQueues && !up.resources.some((r) => r.type === 'Microsoft.Storage/storageAccounts/queueServices/queues' && r.name === `${hostQueues.name}/default/${queue}`)) problems.push(`work queue '${queue}' is not declared on ${hostQueues.name}`);
  }
  for (const geography of catalogue.geographies) {
    const url = settings.geographies[geography.geographyKey]?.storageAccountUrl ?? '';
    const account = byType(up, 'Microsoft.Storage/storageAccounts').find((a) => url === `https://${a.name}.blob.core.windows.net/`);
    if (!account) {
      problems.push(`${geography.geography}: no storage account at ${url}`);
      continue;
    }
    for (const container of geography.blobContainers) {
      if (!up.resources.some((r) => r.type === 'Microsoft.Storage/storageAccounts/blobServices/containers' && r.name === `${account.name}/default/${container}`)) problems.push(`${geography.geography}: blob container '${container}' is not declared on ${account.name}`);
    }
  }
  return problems;
}
