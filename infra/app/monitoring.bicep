// Log Analytics and Application Insights with local authentication off: telemetry is accepted only
// with the app identity's Entra token (APPLICATIONINSIGHTS_AUTHENTICATION_STRING). The app's telemetry
// carries no message content, tokens or keys, and identities only as keyed hashes.

param logAnalyticsName string
param applicationInsightsName string
param location string
param tags object

@description('Principal that publishes telemetry (the app identity).')
param metricsPublisherPrincipalId string

var monitoringMetricsPublisher = '3913510d-42f4-4e42-8a64-420c390055eb'

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
    RetentionInDays: 30
  }
}

resource publisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, metricsPublisherPrincipalId, monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', monitoringMetricsPublisher)
    principalId: metricsPublisherPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output connectionString string = applicationInsights.properties.ConnectionString
