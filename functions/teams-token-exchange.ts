import { app } from '@azure/functions';
import { ServiceError } from '../shared/errors/service-error.js';
import { hmacResourceRoute } from '../shared/http/resource-request.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';

/** The Teams token exchange needs Microsoft Entra ID, which this service does not federate with (yet). */
app.http('teamsUserExchangeAccessToken', {
  route: 'teamsUser/:exchangeAccessToken',
  methods: [...ALL_METHODS],
  handler: hmacResourceRoute({
    POST: async () => {
      throw new ServiceError(
        'NotImplemented',
        'Exchanging a Teams user (Microsoft Entra ID) token is not supported by this service: it does not federate with Entra ID.',
      );
    },
  }),
});
