targetScope = 'subscription'

// `azd up` deploys this: the shared part (function app, identity, monitoring, host storage and the
// control database, in one region) and, for every geography in ENABLED_GEOGRAPHIES, one resource group
// holding that geography's Cosmos DB account, storage account and Event Grid topic, pinned to the
// geography's regions by two built-in policies. The geography table and every store the app uses come
// from catalogue.json, generated from the app's own code (npm run infra:catalogue).

@minLength(1)
@maxLength(64)
@description('Name of the azd environment; names the resource groups and seeds the unique resource names.')
param environmentName string

@minLength(1)
@description('Region of the shared part: the function app, its identity and host storage, Application Insights, Log Analytics and the control database (no personal data). Must offer Flex Consumption.')
@metadata({ azd: { type: 'location' } })
param location string

@description('Comma-separated geography names or keys (as ENABLED_GEOGRAPHIES of the app), e.g. "Europe" or "europe,japan". Each gets its own resource group in its own regions.')
param enabledGeographies string = 'Europe'

@description('Integrate the function app with a virtual network and reach Cosmos DB and storage through private endpoints only.')
param vnetEnabled bool = false

@description('Redundancy of the geographies\' storage accounts: locally or zone redundant, never geo-redundant (a geo-redundant copy lives in the paired region, which for some geographies is outside them).')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param geoStorageSku string = 'Standard_LRS'

@description('Where Cosmos DB keeps its periodic backups: in the account\'s region (Local) or its zones (Zone), never geo-redundant.')
@allowed([
  'Local'
  'Zone'
])
param cosmosBackupRedundancy string = 'Local'

@description('Autoscale maximum RU/s of each database (shared by its containers); billed from a tenth of it when idle.')
@minValue(1000)
param cosmosMaxThroughput int = 1000

@description('Object id of the developer who ran azd (AZURE_PRINCIPAL_ID); given data access only with developerDataAccess.')
param developerPrincipalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param developerPrincipalType string = 'User'

@description('Grant developerPrincipalId the same data-plane roles as the app (for `npm start` against the deployed stores). Off by default: a person reading personal data needs a reason.')
param developerDataAccess bool = false

@description('Client id of a Microsoft Entra app registration for App Service Authentication in front of the privacy console and the management API (see README, Privacy console); empty: none.')
param consoleAuthClientId string = ''

@description('Entra object ids (comma-separated) allowed to use the management API once signed in (MANAGEMENT_PRINCIPALS); only with consoleAuthClientId.')
param managementPrincipals string = ''

@description('App role values (comma-separated) whose holders may use the management API once signed in (MANAGEMENT_APP_ROLES); only with consoleAuthClientId.')
param managementAppRoles string = ''

@secure()
@description('Bearer key of the management API (MANAGEMENT_KEY). azd generates it once and keeps it in the environment\'s configuration.')
@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
param managementKey string

@secure()
@description('Key of the keyed hash that pseudonymises identities in telemetry (TELEMETRY_HASH_KEY). azd generates it once.')
@metadata({ azd: { type: 'generate', config: { length: 48, noSpecial: true } } })
param telemetryHashKey string

var catalogue = loadJsonContent('catalogue.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName }

// ENABLED_GEOGRAPHIES as the app reads it: names or keys, any case, spaces, hyphens and underscores
// ignored, blanks skipped, each geography once. An unknown name fails the deployment (no such alias).
var requestedGeographies = filter(
  map(split(enabledGeographies, ','), entry => toLower(replace(replace(replace(trim(entry), ' ', ''), '-', ''), '_', ''))),
  entry => !empty(entry)
)
var requestedKeys = map(requestedGeographies, entry => catalogue.aliases[entry])
var geographyKeys = filter(requestedKeys, (key, i) => indexOf(requestedKeys, key) == i)

var appPrincipal = [
  {
    principalId: identity.outputs.principalId
    principalType: 'ServicePrincipal'
  }
]
var developerPrincipal = developerDataAccess && !empty(developerPrincipalId)
  ? [
      {
        principalId: developerPrincipalId
        principalType: developerPrincipalType
      }
    ]
  : []
var dataPrincipals = concat(appPrincipal, developerPrincipal)

// ---------- shared part (one region, no personal data at rest) ----------

resource sharedGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'app/identity.bicep' = {
  name: 'identity'
  scope: sharedGroup
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  scope: sharedGroup
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    metricsPublisherPrincipalId: identity.outputs.principalId
  }
}

var deploymentContainer = 'app-package'

module hostStorage 'data/storage-account.bicep' = {
  name: 'host-storage'
  scope: sharedGroup
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    sku: 'Standard_LRS'
    containers: [
      deploymentContainer
    ]
    // The work queues the timers plan into and the queue functions work from (opaque ids only: see README).
    queues: catalogue.hostQueues
    lifecycleRules: []
    privateNetworking: vnetEnabled
    blobDataOwners: appPrincipal
    queueDataContributors: appPrincipal
  }
}

module controlCosmos 'data/cosmos-account.bicep' = {
  name: 'control-cosmos'
  scope: sharedGroup
  params: {
    name: 'cosmos-control-${resourceToken}'
    regions: [
      location
    ]
    tags: tags
    backupRedundancy: cosmosBackupRedundancy
    maxThroughput: cosmosMaxThroughput
    database: catalogue.control.database
    containers: catalogue.control.containers
    privateNetworking: vnetEnabled
    dataContributors: dataPrincipals
  }
}

module network 'network/vnet.bicep' = if (vnetEnabled) {
  name: 'network'
  scope: sharedGroup
  params: {
    name: 'vnet-${resourceToken}'
    location: location
    tags: tags
  }
}

// ---------- one resource group per enabled geography ----------

resource geographyGroups 'Microsoft.Resources/resourceGroups@2025-04-01' = [
  for key in geographyKeys: {
    name: 'rg-${environmentName}-${key}'
    location: catalogue.geographies[key].regions[0]
    tags: union(tags, { 'acs-geography': catalogue.geographies[key].name })
  }
]

module geographies 'geo/geography.bicep' = [
  for (key, i) in geographyKeys: {
    name: 'geography-${key}'
    scope: geographyGroups[i]
    params: {
      geography: catalogue.geographies[key]
      geoContainers: catalogue.geoContainers
      resourceToken: resourceToken
      tags: union(tags, { 'acs-geography': catalogue.geographies[key].name })
      storageSku: geoStorageSku
      cosmosBackupRedundancy: cosmosBackupRedundancy
      cosmosMaxThroughput: cosmosMaxThroughput
      privateNetworking: vnetEnabled
      identityId: identity.outputs.id
      appPrincipalId: identity.outputs.principalId
      dataPrincipals: dataPrincipals
    }
  }
]

// ---------- private endpoints (in the shared group, beside the virtual network) ----------

module controlCosmosEndpoint 'network/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-control-cosmos'
  scope: sharedGroup
  params: {
    name: 'pe-cosmos-control-${resourceToken}'
    location: location
    tags: tags
    subnetId: vnetEnabled ? network!.outputs.privateEndpointSubnetId : ''
    targetId: controlCosmos.outputs.id
    groupId: 'Sql'
    dnsZoneId: vnetEnabled ? network!.outputs.cosmosDnsZoneId : ''
  }
}

module hostBlobEndpoint 'network/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-host-blob'
  scope: sharedGroup
  params: {
    name: 'pe-blob-host-${resourceToken}'
    location: location
    tags: tags
    subnetId: vnetEnabled ? network!.outputs.privateEndpointSubnetId : ''
    targetId: hostStorage.outputs.id
    groupId: 'blob'
    dnsZoneId: vnetEnabled ? network!.outputs.blobDnsZoneId : ''
  }
}

module hostQueueEndpoint 'network/private-endpoint.bicep' = if (vnetEnabled) {
  name: 'pe-host-queue'
  scope: sharedGroup
  params: {
    name: 'pe-queue-host-${resourceToken}'
    location: location
    tags: tags
    subnetId: vnetEnabled ? network!.outputs.privateEndpointSubnetId : ''
    targetId: hostStorage.outputs.id
    groupId: 'queue'
    dnsZoneId: vnetEnabled ? network!.outputs.queueDnsZoneId : ''
  }
}

module geographyCosmosEndpoints 'network/private-endpoint.bicep' = [
  for (key, i) in geographyKeys: if (vnetEnabled) {
    name: 'pe-cosmos-${key}'
    scope: sharedGroup
    params: {
      name: 'pe-cosmos-${key}-${resourceToken}'
      location: location
      tags: tags
      subnetId: vnetEnabled ? network!.outputs.privateEndpointSubnetId : ''
      targetId: geographies[i].outputs.cosmosAccountId
      groupId: 'Sql'
      dnsZoneId: vnetEnabled ? network!.outputs.cosmosDnsZoneId : ''
    }
  }
]

module geographyBlobEndpoints 'network/private-endpoint.bicep' = [
  for (key, i) in geographyKeys: if (vnetEnabled) {
    name: 'pe-blob-${key}'
    scope: sharedGroup
    params: {
      name: 'pe-blob-${key}-${resourceToken}'
      location: location
      tags: tags
      subnetId: vnetEnabled ? network!.outputs.privateEndpointSubnetId : ''
      targetId: geographies[i].outputs.storageAccountId
      groupId: 'blob'
      dnsZoneId: vnetEnabled ? network!.outputs.blobDnsZoneId : ''
    }
  }
]

// ---------- the function app, with every setting strict residency needs ----------

module functionApp 'app/function-app.bicep' = {
  name: 'function-app'
  scope: sharedGroup
  params: {
    name: 'func-${resourceToken}'
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    hostBlobEndpoint: hostStorage.outputs.blobEndpoint
    hostQueueEndpoint: hostStorage.outputs.queueEndpoint
    deploymentContainer: deploymentContainer
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    subnetId: vnetEnabled ? network!.outputs.appSubnetId : ''
    controlCosmosEndpoint: controlCosmos.outputs.endpoint
    controlDatabase: catalogue.control.database
    geoStorePrefix: catalogue.geoStorePrefix
    enabledGeographies: join(geographyKeys, ',')
    geographySettings: [for (key, i) in geographyKeys: geographies[i].outputs.appSettings]
    managementKey: managementKey
    telemetryHashKey: telemetryHashKey
    consoleAuthClientId: consoleAuthClientId
    managementPrincipals: managementPrincipals
    managementAppRoles: managementAppRoles
  }
  dependsOn: [
    hostBlobEndpoint
    hostQueueEndpoint
    controlCosmosEndpoint
    geographyCosmosEndpoints
    geographyBlobEndpoints
  ]
}

// ---------- outputs (azd writes them into the environment; no secrets) ----------

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = sharedGroup.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_APP_ID string = functionApp.outputs.id
output AZURE_FUNCTION_APP_URL string = functionApp.outputs.url
output AZURE_IDENTITY_ID string = identity.outputs.id
output COSMOS_ENDPOINT string = controlCosmos.outputs.endpoint
output ENABLED_GEOGRAPHY_KEYS string = join(geographyKeys, ',')
output VNET_ENABLED bool = vnetEnabled
output DEVELOPER_DATA_ACCESS bool = developerDataAccess && !empty(developerPrincipalId)
output GEOGRAPHIES array = [
  for (key, i) in geographyKeys: {
    key: key
    name: catalogue.geographies[key].name
    settingSuffix: catalogue.geographies[key].settingSuffix
    resourceGroup: geographyGroups[i].name
    cosmosEndpoint: geographies[i].outputs.cosmosEndpoint
    storageAccountName: geographies[i].outputs.storageAccountName
    storageAccountUrl: geographies[i].outputs.storageAccountUrl
    storageAccountId: geographies[i].outputs.storageAccountId
    topicEndpoint: geographies[i].outputs.topicEndpoint
    topicId: geographies[i].outputs.topicId
    systemTopicName: geographies[i].outputs.systemTopicName
    landingContainer: geographies[i].outputs.landingContainer
    deadLetterContainer: geographies[i].outputs.deadLetterContainer
  }
]
