import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { authenticateManagementCaller, type ManagementCaller } from '../auth/management-caller.js';
import { services } from '../services.js';
import { parseJsonBody, readBody } from './request-body.js';
import type { Method } from './methods.js';
import { routeHandler, wrapEach, type RequestScope } from './route-handler.js';

export interface ManagementScope extends RequestScope {
  /** The key's holder, or the principal App Service Authentication signed in (shared/auth/management-caller.ts). */
  caller: ManagementCaller;
}

export type ManagementMethodHandler = (scope: ManagementScope) => Promise<HttpResponseInit>;

/**
 * A management API route: every method requires `Authorization: Bearer <MANAGEMENT_KEY>`, or, where
 * MANAGEMENT_PRINCIPALS / MANAGEMENT_APP_ROLES are set, an allowed principal signed in by App Service
 * Authentication.
 */
export function managementRoute(handlers: Partial<Record<Method, ManagementMethodHandler>>): HttpHandler {
  const guarded = wrapEach(handlers, (handler) => async (scope) => {
    const { settings } = services();
    const caller = authenticateManagementCaller(scope.request, { managementKey: settings.managementKey, principals: settings.managementPrincipals });
    return handler({ ...scope, caller });
  });
  return routeHandler(guarded, services);
}

/** A management request's JSON body (`{}` when empty). */
export async function managementJsonBody(scope: RequestScope): Promise<unknown> {
  const body = await readBody(scope.request, services().settings.maxRequestBodyBytes);
  return parseJsonBody(scope.request, body) ?? {};
}
