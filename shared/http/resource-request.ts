import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import { verifyHmacRequest } from '../auth/hmac-auth.js';
import { ServiceError } from '../errors/service-error.js';
import { noteRequestSubjects } from '../oplog/request-subjects.js';
import type { Resource } from '../resources/resource.js';
import { services } from '../services.js';
import { readBody } from './request-body.js';
import type { Method } from './methods.js';
import { routeHandler, wrapEach, type RequestScope } from './route-handler.js';

export interface ResourceScope extends RequestScope {
  resource: Resource;
  body: Buffer;
}

export type ResourceMethodHandler = (scope: ResourceScope) => Promise<HttpResponseInit>;

/** A request whose body the handler streams itself: it must check the body against `claimedContentHash`. */
export interface StreamedResourceScope extends RequestScope {
  resource: Resource;
  claimedContentHash: string;
}

/** Marks a handler that reads the body as a stream (large uploads) instead of buffered. */
export interface StreamedBodyHandler {
  streamed: (scope: StreamedResourceScope) => Promise<HttpResponseInit>;
}

/**
 * A data-plane route authenticated with the resource's key (HMAC). The resource is the one named
 * by the endpoint's `resource` query parameter; an unknown resource answers the same 401 as a bad
 * signature, so names cannot be probed. A buffered handler gets the body checked against the signed
 * content hash; a streamed one gets the signed hash to check once it has read the stream.
 */
export function hmacResourceRoute(
  handlers: Partial<Record<Method, ResourceMethodHandler | StreamedBodyHandler>>,
  options: { requireApiVersion?: boolean; logSubjects?: boolean; maxBodyBytes?: number } = {},
): HttpHandler {
  const authenticated = wrapEach(handlers, (handler) => async (scope) => {
    scope.operation.logSubjects = options.logSubjects ?? true;
    if (typeof handler !== 'function') {
      const { resource, claimedContentHash } = await authenticateWithResourceKey(scope, options, undefined);
      noteRequestSubjects(scope);
      return handler.streamed({ ...scope, resource, claimedContentHash });
    }
    // A route may take larger bodies than MAX_REQUEST_BODY_BYTES (an e-mail with attachments: ACS's 10 MB).
    const body = await readBody(scope.request, options.maxBodyBytes ?? services().settings.maxRequestBodyBytes);
    const { resource } = await authenticateWithResourceKey(scope, options, body);
    noteRequestSubjects(scope, body);
    return handler({ ...scope, resource, body });
  });
  return routeHandler(authenticated, services);
}

async function authenticateWithResourceKey(
  scope: RequestScope,
  options: { requireApiVersion?: boolean },
  body: Buffer | undefined,
): Promise<{ resource: Resource; claimedContentHash: string }> {
  const svc = services();
  const resource = await svc.resources.resolveActive(resourceNameOf(scope.request.query));
  const claimedContentHash = verifyHmacRequest(scope.request, resource ? [resource.keys.primary, resource.keys.secondary] : [], svc.clock, body);
  // verifyHmacRequest refuses an empty key list, so an unknown resource never gets here.
  if (!resource) throw new ServiceError('Unauthorized', 'The request is not authorized.');
  // Logged from here on: a caller who cannot sign writes nothing into the resource's logs.
  scope.operation.resource = resource;
  if (options.requireApiVersion) requireApiVersion(scope.request.query);
  return { resource, claimedContentHash };
}

/** The resource a data-plane request names: the endpoint's `resource` query parameter. */
export function resourceNameOf(query: URLSearchParams): string {
  const name = query.get('resource');
  if (!name) {
    throw new ServiceError('ValidationError', "The 'resource' query parameter is missing: use the endpoint from the resource's connection string.", {
      target: 'resource',
    });
  }
  return name;
}

/** ACS operations require `api-version` (the SDKs always send it). */
export function requireApiVersion(query: URLSearchParams): string {
  const version = query.get('api-version');
  if (!version) {
    throw new ServiceError('InvalidApiVersion', "The 'api-version' query parameter is required.", { target: 'api-version' });
  }
  return version;
}
