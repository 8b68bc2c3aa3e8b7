import type { HttpHandler } from '@azure/functions';
import { verifyHmacRequest } from '../auth/hmac-auth.js';
import { ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import { services } from '../services.js';
import { readBody } from './request-body.js';
import { routeHandler, type Method, type RequestScope } from './route-handler.js';
import type { HttpResponseInit } from '@azure/functions';

export interface ResourceScope extends RequestScope {
  resource: Resource;
  body: Buffer;
}

export type ResourceMethodHandler = (scope: ResourceScope) => Promise<HttpResponseInit>;

/**
 * A data-plane route authenticated with the resource's key (HMAC). The resource is the one named
 * by the endpoint's `resource` query parameter; an unknown resource answers the same 401 as a bad
 * signature, so names cannot be probed.
 */
export function hmacResourceRoute(
  handlers: Partial<Record<Method, ResourceMethodHandler>>,
  options: { requireApiVersion?: boolean } = {},
): HttpHandler {
  const wrapped = Object.fromEntries(
    Object.entries(handlers).map(([method, handler]) => [
      method,
      async (scope: RequestScope) => {
        const svc = services();
        const body = await readBody(scope.request, svc.settings.maxRequestBodyBytes);
        const name = scope.request.query.get('resource');
        if (!name) {
          throw new ServiceError('ValidationError', "The 'resource' query parameter is missing: use the endpoint from the resource's connection string.", {
            target: 'resource',
          });
        }
        const resource = await svc.resources.resolveActive(name);
        const keys = resource ? [resource.keys.primary, resource.keys.secondary] : [];
        verifyHmacRequest(scope.request, keys, svc.clock, body);
        if (!resource) throw new ServiceError('Unauthorized', 'The request is not authorized.');
        if (options.requireApiVersion) requireApiVersion(scope.request.query);
        return handler({ ...scope, resource, body });
      },
    ]),
  ) as Partial<Record<Method, (scope: RequestScope) => Promise<HttpResponseInit>>>;
  return routeHandler(wrapped, () => services().logger);
}

/** ACS operations require `api-version` (the SDKs always send it). */
export function requireApiVersion(query: URLSearchParams): string {
  const version = query.get('api-version');
  if (!version) {
    throw new ServiceError('InvalidApiVersion', "The 'api-version' query parameter is required.", { target: 'api-version' });
  }
  return version;
}
