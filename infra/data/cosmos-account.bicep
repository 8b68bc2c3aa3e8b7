// A Cosmos DB (NoSQL) account that lives only in the regions it is given (the first is the one
// write region), with one database and the containers the app declared (partition keys and composite
// indexes included: with keys off, the app's Entra identity cannot create them), periodic backups kept
// in the account's own region or zones, and no keys: data-plane access only through Entra role
// assignments.

param name string

@description('Azure regions of the account, the primary (write) region first.')
@minLength(1)
param regions array

param tags object

@allowed([
  'Local'
  'Zone'
])
param backupRedundancy string

@minValue(1000)
param maxThroughput int

param database string

@description('[{id, partitionKey, compositeIndexes, defaultTtl?}] from catalogue.json.')
param containers array

@description('Only private endpoints reach the account.')
param privateNetworking bool

@description('[{principalId, principalType}] given the built-in Cosmos DB Data Contributor role.')
param dataContributors array

var cosmosDataContributor = '00000000-0000-0000-0000-000000000002'

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' = {
  name: name
  location: regions[0]
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [
      for (region, i) in regions: {
        locationName: region
        failoverPriority: i
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    enableMultipleWriteLocations: false
    enableAutomaticFailover: length(regions) > 1
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: privateNetworking ? 'Disabled' : 'Enabled'
    backupPolicy: {
      type: 'Periodic'
      periodicModeProperties: {
        backupIntervalInMinutes: 240
        backupRetentionIntervalInHours: 8
        backupStorageRedundancy: backupRedundancy
      }
    }
  }
}

resource sqlDatabase 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' = {
  parent: account
  name: database
  properties: {
    resource: {
      id: database
    }
    options: {
      autoscaleSettings: {
        maxThroughput: maxThroughput
      }
    }
  }
}

resource sqlContainers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = [
  for container in containers: {
    parent: sqlDatabase
    name: container.id
    properties: {
      // A container the app declares a time to live for (catalogue.json `defaultTtl`) gets it.
      resource: union({
        id: container.id
        partitionKey: {
          paths: [
            container.partitionKey
          ]
          kind: 'Hash'
          version: 2
        }
        indexingPolicy: {
          indexingMode: 'consistent'
          automatic: true
          includedPaths: [
            {
              path: '/*'
            }
          ]
          excludedPaths: [
            {
              path: '/"_etag"/?'
            }
          ]
          compositeIndexes: container.compositeIndexes
        }
      }, contains(container, 'defaultTtl') ? { defaultTtl: container.defaultTtl } : {})
    }
  }
]

resource dataAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = [
  for principal in dataContributors: {
    parent: account
    name: guid(account.id, principal.principalId, cosmosDataContributor)
    properties: {
      roleDefinitionId: '${account.id}/sqlRoleDefinitions/${cosmosDataContributor}'
      principalId: principal.principalId
      scope: account.id
    }
  }
]

output id string = account.id
output name string = account.name
output endpoint string = account.properties.documentEndpoint
