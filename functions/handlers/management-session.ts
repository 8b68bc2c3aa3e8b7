import type { HttpHandler } from '@azure/functions';
import { principalsConfigured } from '../../shared/auth/management-caller.js';
import { managementRoute } from '../../shared/http/management-route.js';
import { json } from '../../shared/http/responses.js';
import { services } from '../../shared/services.js';

export const managementSession: HttpHandler = managementRoute({
  GET: async ({ caller }) =>
    json(200, {
      authenticatedBy: caller.method,
      ...(caller.method === 'principal' ? { principal: { objectId: caller.objectId, ...(caller.name ? { name: caller.name } : {}), roles: caller.roles } } : {}),
      principalSignIn: principalsConfigured(services().settings.managementPrincipals),
    }),
});
