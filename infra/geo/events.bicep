// The geography's Event Grid topic (the app publishes its events there: CloudEvents 1.0, Entra
// tokens only, data kept within the region) and the system topic of its storage account, whose
// subscription (landing-events.bicep, created after the code is deployed) brings new landing files
// to the recordingLanding function.

param topicName string
param systemTopicName string
param location string
param tags object
param storageAccountId string

@description('The identity the system topic dead-letters with (it may write the geography\'s blobs).')
param identityId string

@description('[{principalId, principalType}] given EventGrid Data Sender on the topic.')
param dataSenders array

var eventGridDataSender = 'd5a91429-5739-47e2-a06b-3470a27159e7'

resource topic 'Microsoft.EventGrid/topics@2025-02-15' = {
  name: topicName
  location: location
  tags: tags
  properties: {
    inputSchema: 'CloudEventSchemaV1_0'
    disableLocalAuth: true
    dataResidencyBoundary: 'WithinRegion'
    publicNetworkAccess: 'Enabled'
    minimumTlsVersionAllowed: '1.2'
  }
}

resource senders 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for principal in dataSenders: {
    name: guid(topic.id, principal.principalId, eventGridDataSender)
    scope: topic
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', eventGridDataSender)
      principalId: principal.principalId
      principalType: principal.principalType
    }
  }
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' = {
  name: systemTopicName
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output topicId string = topic.id
output topicEndpoint string = topic.properties.endpoint
output systemTopicName string = systemTopic.name
