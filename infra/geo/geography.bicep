// One geography's resource group: its Cosmos DB account (the geography's regions only), storage
// account (lifecycle backstops), Event Grid topic (residency boundary within the region), the system
// topic that reports new landing files, the two built-in location policies, and the app identity's
// access. The app settings it outputs point the app at these accounts and no others.

@description('The geography\'s entry of catalogue.json: key, name, settingSuffix, regions (primary first), database, blobContainers.')
param geography object

@description('Containers of every geography\'s database (catalogue.json geoContainers).')
param geoContainers array

param resourceToken string
param tags object

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param storageSku string

@allowed([
  'Local'
  'Zone'
])
param cosmosBackupRedundancy string

param cosmosMaxThroughput int
param privateNetworking bool

@description('Resource id of the app\'s user-assigned identity (the system topic dead-letters with it).')
param identityId string

@description('Principal id of the app\'s identity (Reader on this group: the residency audit reads account locations).')
param appPrincipalId string

@description('[{principalId, principalType}] given data access: the app identity, and the developer if asked for.')
param dataPrincipals array

var key = geography.key
var primaryRegion = geography.regions[0]
var landingContainer = filter(geography.blobContainers, c => c.role == 'recording-landing')[0].name
var deadLetterContainer = '${geography.database}-landing-deadletter'
var reader = 'acdd72a7-3385-48ef-bd42-f606fba81ae7'

module cosmos '../data/cosmos-account.bicep' = {
  name: 'cosmos-${key}'
  params: {
    name: 'cosmos-${key}-${resourceToken}'
    regions: geography.regions
    tags: tags
    backupRedundancy: cosmosBackupRedundancy
    maxThroughput: cosmosMaxThroughput
    database: geography.database
    containers: geoContainers
    privateNetworking: privateNetworking
    dataContributors: dataPrincipals
  }
}

module storage '../data/storage-account.bicep' = {
  name: 'storage-${key}'
  params: {
    name: take('st${key}${resourceToken}', 24)
    location: primaryRegion
    tags: tags
    sku: storageSku
    containers: concat(map(geography.blobContainers, c => c.name), [deadLetterContainer])
    lifecycleRules: concat(
      map(geography.blobContainers, c => { container: c.name, days: c.deleteAfterDays }),
      [{ container: deadLetterContainer, days: 7 }]
    )
    privateNetworking: privateNetworking
    blobDataOwners: dataPrincipals
  }
}

module events 'events.bicep' = {
  name: 'events-${key}'
  params: {
    topicName: 'evgt-${key}-${resourceToken}'
    systemTopicName: 'evgst-${key}-${resourceToken}'
    location: primaryRegion
    tags: tags
    storageAccountId: storage.outputs.id
    identityId: identityId
    dataSenders: dataPrincipals
  }
}

module policies 'policies.bicep' = {
  name: 'policies-${key}'
  params: {
    geographyName: geography.name
    regions: geography.regions
  }
}

resource auditReader 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(resourceGroup().id, appPrincipalId, reader)
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', reader)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

var suffix = geography.settingSuffix

output cosmosAccountId string = cosmos.outputs.id
output cosmosEndpoint string = cosmos.outputs.endpoint
output storageAccountId string = storage.outputs.id
output storageAccountName string = storage.outputs.name
output storageAccountUrl string = storage.outputs.blobEndpoint
output topicId string = events.outputs.topicId
output topicEndpoint string = events.outputs.topicEndpoint
output systemTopicName string = events.outputs.systemTopicName
output landingContainer string = landingContainer
output deadLetterContainer string = deadLetterContainer
output appSettings array = [
  { name: 'COSMOS_ENDPOINT__${suffix}', value: cosmos.outputs.endpoint }
  { name: 'STORAGE_ACCOUNT_URL__${suffix}', value: storage.outputs.blobEndpoint }
  { name: 'STORAGE_ACCOUNT_RESOURCE_ID__${suffix}', value: storage.outputs.id }
  { name: 'EVENTGRID_TOPIC_ENDPOINT__${suffix}', value: events.outputs.topicEndpoint }
  { name: 'EVENTGRID_TOPIC_RESOURCE_ID__${suffix}', value: events.outputs.topicId }
]
