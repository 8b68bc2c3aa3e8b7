import { app } from '@azure/functions';
import { parseJsonBody } from '../shared/http/request-body.js';
import { hmacResourceRoute } from '../shared/http/resource-request.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { services } from '../shared/services.js';

/**
 * ACS Identity API 2023-10-01: exchanges a Microsoft Entra ID access token of a Teams user for an
 * ACS access token of that user (`getTokenForTeamsUser` of @azure/communication-identity 1.3).
 */
app.http('teamsUserExchangeAccessToken', {
  route: 'teamsUser/:exchangeAccessToken',
  methods: [...ALL_METHODS],
  handler: hmacResourceRoute(
    {
      POST: async (scope) => {
        const { identityId, accessToken } = await services().teamsTokens.exchange(scope.resource, parseJsonBody(scope.request, scope.body));
        scope.operation.subjects.add(identityId);
        return json(200, accessToken);
      },
    },
    { requireApiVersion: true },
  ),
});
