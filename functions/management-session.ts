import { app } from '@azure/functions';
import { principalsConfigured } from '../shared/auth/management-caller.js';
import { managementRoute } from '../shared/http/management-route.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { services } from '../shared/services.js';

/**
 * Who the management API takes the caller for: the console signs in with it (the key typed in, or,
 * in Azure behind App Service Authentication, the signed-in principal).
 */
app.http('managementSession', {
  route: 'api/management/session',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ caller }) =>
      json(200, {
        authenticatedBy: caller.method,
        ...(caller.method === 'principal' ? { principal: { objectId: caller.objectId, ...(caller.name ? { name: caller.name } : {}), roles: caller.roles } } : {}),
        principalSignIn: principalsConfigured(services().settings.managementPrincipals),
      }),
  }),
});
