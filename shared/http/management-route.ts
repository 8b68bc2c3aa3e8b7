import type { HttpHandler } from '@azure/functions';
import { requireManagementKey } from '../auth/management-auth.js';
import { services } from '../services.js';
import { routeHandler, type Method, type MethodHandler } from './route-handler.js';

/** A management API route: every method requires `Authorization: Bearer <MANAGEMENT_KEY>`. */
export function managementRoute(handlers: Partial<Record<Method, MethodHandler>>): HttpHandler {
  const guarded = Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      async (scope: Parameters<MethodHandler>[0]) => {
        requireManagementKey(scope.request, services().settings.managementKey);
        return handler(scope);
      },
    ]),
  ) as Partial<Record<Method, MethodHandler>>;
  return routeHandler(guarded, () => services().logger);
}

/** The public base URL: the configured one, else the origin the caller used. */
export function publicBaseUrl(requestUrl: string): string {
  return services().settings.publicBaseUrl ?? new URL(requestUrl).origin;
}
