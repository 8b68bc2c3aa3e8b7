import type { HttpHandler } from '@azure/functions';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { services } from '../../shared/services.js';

export const teamsUserExchangeAccessToken: HttpHandler = hmacResourceRoute(
  {
    POST: async (scope) => {
      const { identityId, accessToken } = await services().teamsTokens.exchange(scope.resource, parseJsonBody(scope.request, scope.body));
      scope.operation.subjects.add(identityId);
      return json(200, accessToken);
    },
  },
  { requireApiVersion: true },
);
