import type { HttpHandler } from '@azure/functions';
import { requireManagementKey } from '../auth/management-auth.js';
import { services } from '../services.js';
import { parseJsonBody, readBody } from './request-body.js';
import { routeHandler, wrapEach, type Method, type MethodHandler, type RequestScope } from './route-handler.js';

/** A management API route: every method requires `Authorization: Bearer <MANAGEMENT_KEY>`. */
export function managementRoute(handlers: Partial<Record<Method, MethodHandler>>): HttpHandler {
  const guarded = wrapEach(handlers, (handler) => async (scope) => {
    requireManagementKey(scope.request, services().settings.managementKey);
    return handler(scope);
  });
  return routeHandler(guarded, services);
}

/** A management request's JSON body (`{}` when empty). */
export async function managementJsonBody(scope: RequestScope): Promise<unknown> {
  const body = await readBody(scope.request, services().settings.maxRequestBodyBytes);
  return parseJsonBody(scope.request, body) ?? {};
}
