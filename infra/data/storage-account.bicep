// A storage account that keeps its data where it is and deletes what it is told to delete:
// locally or zone redundant only (never a copy in a paired region), no shared keys (Entra tokens
// only), no public blobs, no replication to other tenants, and no soft delete or versioning: a blob
// deleted by a purge, an erasure or a lifecycle rule is gone, not recoverable for days.

param name string
param location string
param tags object

@allowed([
  'Standard_LRS'
  'Standard_ZRS'
])
param sku string

@description('Blob containers to create.')
param containers array

@description('Queues to create (the app\'s work queues and their poison queues, in the host storage account).')
param queues array = []

@description('Lifecycle backstops: [{container, days}] deletes the container\'s block blobs that many days after creation.')
param lifecycleRules array

@description('Deny public network access except trusted Azure services (Event Grid dead-lettering); the app goes through private endpoints.')
param privateNetworking bool

@description('[{principalId, principalType}] given Storage Blob Data Owner (blob index tags need it).')
param blobDataOwners array

@description('[{principalId, principalType}] given Storage Queue Data Contributor.')
param queueDataContributors array = []

var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageQueueDataContributor = '974c5e8b-45b9-4653-ba55-5f855dd0fb88'

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: sku
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    isHnsEnabled: false
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: privateNetworking ? 'Deny' : 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: false
    }
    containerDeleteRetentionPolicy: {
      enabled: false
    }
    isVersioningEnabled: false
    restorePolicy: {
      enabled: false
    }
    changeFeed: {
      enabled: false
    }
  }
}

resource blobContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: {
      publicAccess: 'None'
    }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = if (!empty(queues)) {
  parent: account
  name: 'default'
}

resource workQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for queue in queues: {
    parent: queueService
    name: queue
  }
]

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = if (!empty(lifecycleRules)) {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: [
        for rule in lifecycleRules: {
          name: 'delete-${rule.container}'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${rule.container}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterCreationGreaterThan: rule.days
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    blobContainers
  ]
}

resource blobOwners 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in blobDataOwners: {
    name: guid(account.id, principal.principalId, storageBlobDataOwner)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
      principalId: principal.principalId
      principalType: principal.principalType
    }
  }
]

resource queueContributors 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in queueDataContributors: {
    name: guid(account.id, principal.principalId, storageQueueDataContributor)
    scope: account
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageQueueDataContributor)
      principalId: principal.principalId
      principalType: principal.principalType
    }
  }
]

output id string = account.id
output name string = account.name
output location string = account.location
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
