import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import type { ChatCaller } from '../chat/chat-context.js';
import { ServiceError } from '../errors/service-error.js';
import { noteRequestSubjects } from '../oplog/request-subjects.js';
import { services } from '../services.js';
import { readBody } from './request-body.js';
import { requireApiVersion, resourceNameOf } from './resource-request.js';
import { routeHandler, wrapEach, type Method, type RequestScope } from './route-handler.js';

export interface UserScope extends RequestScope {
  caller: ChatCaller;
  body: Buffer;
}

export type UserMethodHandler = (scope: UserScope) => Promise<HttpResponseInit>;

const unauthorized = (message: string) => new ServiceError('Unauthorized', message, { headers: { 'www-authenticate': 'Bearer' } });

/**
 * A data-plane route authenticated with a user access token (`Authorization: Bearer`), as the chat
 * SDK sends it. The resource is the one the endpoint names (`resource` query parameter); a token of
 * another resource, an expired or revoked token, or a token of a deleted identity answers 401.
 */
export function userRoute(handlers: Partial<Record<Method, UserMethodHandler>>): HttpHandler {
  const authenticated = wrapEach(handlers, (handler) => async (scope) => handler(await authenticateUser(scope)));
  return routeHandler(authenticated, services);
}

async function authenticateUser(scope: RequestScope): Promise<UserScope> {
  const svc = services();
  const header = scope.request.headers.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized('A user access token is required: Authorization: Bearer <token>.');
  const resource = await svc.resources.resolveActive(resourceNameOf(scope.request.query));
  if (!resource) throw unauthorized('The access token is not valid.');
  scope.operation.resource = resource;
  const verified = await svc.identities.verify(resource, match[1]!);
  scope.operation.subjects.add(verified.identityId);
  requireApiVersion(scope.request.query);
  const body = await readBody(scope.request, svc.settings.maxRequestBodyBytes);
  noteRequestSubjects(scope, body);
  return { ...scope, caller: { resource, identityId: verified.identityId, scopes: verified.scopes }, body };
}
