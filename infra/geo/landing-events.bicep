// The subscription that delivers Microsoft.Storage.BlobCreated events of the geography's landing
// container to the recordingLanding function. Event Grid checks that the function exists, so it is
// created after the code is deployed: infra/scripts/postdeploy.mjs (the azd postdeploy hook) deploys
// this file into each geography's resource group. Undeliverable events are dead-lettered, with the
// app identity, into a container of the same geography's storage account.

param systemTopicName string
param landingContainer string

@description('Resource id of the function app.')
param functionAppId string

@description('Resource id of the app\'s user-assigned identity (assigned to the system topic).')
param identityId string

param deadLetterStorageAccountId string
param deadLetterContainer string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2025-02-15' existing = {
  name: systemTopicName
}

resource landing 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2025-02-15' = {
  parent: systemTopic
  name: 'recording-landing'
  properties: {
    destination: {
      endpointType: 'AzureFunction'
      properties: {
        resourceId: '${functionAppId}/functions/recordingLanding'
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    eventDeliverySchema: 'EventGridSchema'
    filter: {
      includedEventTypes: [
        'Microsoft.Storage.BlobCreated'
      ]
      subjectBeginsWith: '/blobServices/default/containers/${landingContainer}/'
    }
    retryPolicy: {
      maxDeliveryAttempts: 30
      eventTimeToLiveInMinutes: 1440
    }
    deadLetterWithResourceIdentity: {
      identity: {
        type: 'UserAssigned'
        userAssignedIdentity: identityId
      }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterStorageAccountId
          blobContainerName: deadLetterContainer
        }
      }
    }
  }
}

output name string = landing.name
