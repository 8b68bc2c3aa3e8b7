// The Flex Consumption function app (Node.js 22) running as the user-assigned identity, with every
// app setting the app needs to start in strict residency: the control database, and for each enabled
// geography its own Cosmos DB account, storage account and Event Grid topic. No keys and no
// connection strings: a missing key means an Entra token (AZURE_CLIENT_ID picks the identity).

param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param hostBlobEndpoint string
param hostQueueEndpoint string
param deploymentContainer string
param applicationInsightsConnectionString string

@description('Subnet for virtual network integration (empty: none).')
param subnetId string

param controlCosmosEndpoint string
param controlDatabase string
param geoStorePrefix string

@description('The enabled geographies\' keys, comma-separated (ENABLED_GEOGRAPHIES).')
param enabledGeographies string

@description('Per geography, its settings as [{name, value}] (the geography module\'s appSettings output).')
param geographySettings array

@secure()
param managementKey string

@secure()
param telemetryHashKey string

@description('Client id of the Entra app registration App Service Authentication signs people in with (the privacy console); empty: authentication off.')
param consoleAuthClientId string = ''

@description('MANAGEMENT_PRINCIPALS: Entra object ids allowed to use the management API once signed in.')
param managementPrincipals string = ''

@description('MANAGEMENT_APP_ROLES: app role values whose holders may use the management API once signed in.')
param managementAppRoles string = ''

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var baseSettings = [
  // Host storage through the identity (no connection string).
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
  { name: 'AzureWebJobsStorage__blobServiceUri', value: hostBlobEndpoint }
  { name: 'AzureWebJobsStorage__queueServiceUri', value: hostQueueEndpoint }
  // Telemetry accepted only with the identity's Entra token (local auth is off).
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
  // The app's own settings (shared/config/settings.ts).
  { name: 'AZURE_CLIENT_ID', value: identityClientId }
  { name: 'COSMOS_ENDPOINT', value: controlCosmosEndpoint }
  { name: 'COSMOS_CONTROL_DATABASE', value: controlDatabase }
  { name: 'GEO_STORE_PREFIX', value: geoStorePrefix }
  { name: 'ENABLED_GEOGRAPHIES', value: enabledGeographies }
  { name: 'STRICT_RESIDENCY', value: 'true' }
  { name: 'STORE_PROVISIONING', value: 'verify' }
  { name: 'EVENTGRID_SCHEMA', value: 'CloudEvents' }
  { name: 'MANAGEMENT_KEY', value: managementKey }
  { name: 'TELEMETRY_HASH_KEY', value: telemetryHashKey }
  // The timers' schedules (six-field NCRONTAB, UTC): each timer registers with a reference to its setting
  // (%SETTING%, shared/timer-schedules.ts), which the host resolves at start; change one here, not in code.
  { name: 'RETENTION_PURGE_SCHEDULE', value: '0 0 * * * *' }
  { name: 'RECORDING_PURGE_SCHEDULE', value: '0 */15 * * * *' }
  { name: 'PRIVACY_WORKER_SCHEDULE', value: '*/10 * * * * *' }
  { name: 'OUTBOX_REPUBLISH_SCHEDULE', value: '*/30 * * * * *' }
  { name: 'EMAIL_DELIVERY_SCHEDULE', value: '*/30 * * * * *' }
  { name: 'SMS_HOUSEKEEPING_SCHEDULE', value: '0 */5 * * * *' }
  { name: 'WHATSAPP_HOUSEKEEPING_SCHEDULE', value: '0 */10 * * * *' }
  // The root path is the app's: REST-level ACS clients (Advanced Messaging) send `/?resource=...` (shared/http/query-routes.ts).
  { name: 'AzureWebJobsDisableHomepage', value: 'true' }
]

// Who may use the management API through App Service Authentication (shared/auth/management-caller.ts):
// only set with authentication on, since the X-MS-CLIENT-PRINCIPAL header is trustworthy only behind it.
var principalIdSettings = empty(managementPrincipals)
  ? []
  : [
      { name: 'MANAGEMENT_PRINCIPALS', value: managementPrincipals }
    ]
var principalRoleSettings = empty(managementAppRoles)
  ? []
  : [
      { name: 'MANAGEMENT_APP_ROLES', value: managementAppRoles }
    ]
var principalSettings = empty(consoleAuthClientId) ? [] : concat(principalIdSettings, principalRoleSettings)

resource site 'Microsoft.Web/sites@2024-11-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': 'api' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    virtualNetworkSubnetId: empty(subnetId) ? null : subnetId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: concat(baseSettings, principalSettings, flatten(geographySettings))
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostBlobEndpoint}${deploymentContainer}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: 100
      }
      runtime: {
        name: 'node'
        version: '22'
      }
    }
  }
}

// azd deploys with an Entra token; publishing with a user name and password stays off.
resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

// App Service Authentication (Microsoft Entra ID) in front of the app, for the privacy console: it
// signs people in (/.auth/login/aad) and hands the app the signed-in principal (X-MS-CLIENT-PRINCIPAL),
// stripping any copy a client sends. Anonymous requests still reach the app: the data plane is called
// with HMAC signatures and the service's own user tokens, and the app decides who may use the
// management API. No client secret: sign-in uses the ID token (enable ID tokens on the registration).
resource authSettings 'Microsoft.Web/sites/config@2024-11-01' = if (!empty(consoleAuthClientId)) {
  parent: site
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    httpSettings: {
      requireHttps: true
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: consoleAuthClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            consoleAuthClientId
            'api://${consoleAuthClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: false
      }
    }
  }
}

output name string = site.name
output id string = site.id
output url string = 'https://${site.properties.defaultHostName}'
