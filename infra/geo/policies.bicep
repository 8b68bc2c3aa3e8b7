// The residency boundary as policy: in this resource group, nothing may be created outside the
// geography's regions ("Allowed locations" checks a resource's location), and no Cosmos DB account
// may have a replica outside them ("Azure Cosmos DB allowed locations" checks every location of the
// account). Both are built in; assigning them needs Owner or Resource Policy Contributor.

param geographyName string

@description('The geography\'s Azure regions.')
param regions array

var allowedLocations = 'e56962a6-4747-49cd-b67b-bf8b01975c4c'
var cosmosAllowedLocations = '0473574d-2d43-4217-aefe-941fcdf7e684'

resource locationPolicy 'Microsoft.Authorization/policyAssignments@2025-03-01' = {
  name: 'allowed-locations'
  properties: {
    displayName: 'Allowed locations: ${geographyName}'
    description: 'Data of ${geographyName} stays in its regions.'
    policyDefinitionId: tenantResourceId('Microsoft.Authorization/policyDefinitions', allowedLocations)
    enforcementMode: 'Default'
    parameters: {
      listOfAllowedLocations: {
        value: regions
      }
    }
  }
}

resource cosmosLocationPolicy 'Microsoft.Authorization/policyAssignments@2025-03-01' = {
  name: 'cosmos-allowed-locations'
  properties: {
    displayName: 'Azure Cosmos DB allowed locations: ${geographyName}'
    description: 'No Cosmos DB replica of ${geographyName} outside its regions.'
    policyDefinitionId: tenantResourceId('Microsoft.Authorization/policyDefinitions', cosmosAllowedLocations)
    enforcementMode: 'Default'
    parameters: {
      listOfAllowedLocations: {
        value: regions
      }
      policyEffect: {
        value: 'deny'
      }
    }
  }
}
