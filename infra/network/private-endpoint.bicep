// A private endpoint for one sub-resource (Cosmos DB 'Sql', storage 'blob' or 'queue') in the
// private-endpoint subnet, registered in its private DNS zone. It carries traffic, not data.

param name string
param location string
param tags object
param subnetId string
param targetId string

@allowed([
  'Sql'
  'blob'
  'queue'
])
param groupId string

param dnsZoneId string

resource endpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: {
      id: subnetId
    }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: targetId
          groupIds: [
            groupId
          ]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: groupId
        properties: {
          privateDnsZoneId: dnsZoneId
        }
      }
    ]
  }
}
