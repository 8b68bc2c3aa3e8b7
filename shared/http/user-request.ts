import type { HttpHandler, HttpResponseInit } from '@azure/functions';
import type { ChatCaller } from '../chat/chat-context.js';
import { ServiceError } from '../errors/service-error.js';
import type { VerifiedCaller } from '../identity/identity-service.js';
import type { Resource } from '../resources/resource.js';
import { noteRequestSubjects } from '../oplog/request-subjects.js';
import { services } from '../services.js';
import { readBody } from './request-body.js';
import { requireApiVersion, resourceNameOf } from './resource-request.js';
import type { Method } from './methods.js';
import { routeHandler, wrapEach, type RequestScope } from './route-handler.js';

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
  const authenticated = wrapEach(handlers, (handler) => async (scope) => {
    const svc = services();
    const { resource, token } = await tokenOf(scope);
    const claims = await svc.identities.verifySignature(resource, token);
    // From verification to the handler's answer (its writes landed) the request is under way: a deletion of the caller on this instance waits for it.
    return svc.identities.whileUnderWay(claims.sub, async () => {
      const userScope = await authenticateUser(scope, resource, await svc.identities.verifyCurrent(resource, claims));
      const response = await handler(userScope);
      // After the write has landed, beside the operation log write and whatever else the handler left to finish (route-handler.ts).
      const rest = scope.operation.finish;
      if (!READ_ONLY.has(scope.request.method.toUpperCase())) {
        scope.operation.finish = async () => {
          // Both to their end; the check's 401 first, as the answer a moment later would be.
          const [check, other] = await Promise.allSettled([eraseIfDeletedMeanwhile(userScope), rest?.()]);
          if (check.status === 'rejected') throw check.reason;
          if (other.status === 'rejected') throw other.reason;
        };
      }
      return response;
    });
  });
  return routeHandler(authenticated, services);
}

const READ_ONLY = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * A write by an identity whose deletion began while the write was under way (on another instance,
 * where the deletion could not wait for it) is erased with everything else of the identity, and the
 * caller gets the 401 a request a moment later would have got (its operation log record is
 * rewritten to say so). The check reads the identity after the write landed: a deletion marked
 * after that read finds the write when it erases.
 */
async function eraseIfDeletedMeanwhile(scope: UserScope): Promise<void> {
  const { identities } = services();
  const { resource, identityId } = scope.caller;
  if (await identities.isUsable(resource, identityId)) return;
  await identities.eraseLeftovers(resource, identityId);
  throw unauthorized('The access token is not valid.');
}

async function tokenOf(scope: RequestScope): Promise<{ resource: Resource; token: string }> {
  const svc = services();
  const header = scope.request.headers.get('authorization') ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthorized('A user access token is required: Authorization: Bearer <token>.');
  const resource = await svc.resources.resolveActive(resourceNameOf(scope.request.query), { cached: true });
  if (!resource) throw unauthorized('The access token is not valid.');
  return { resource, token: match[1]! };
}

async function authenticateUser(scope: RequestScope, resource: Resource, verified: VerifiedCaller): Promise<UserScope> {
  const svc = services();
  // Logged from here on: a caller without a valid token writes nothing into the resource's logs.
  scope.operation.resource = resource;
  scope.operation.subjects.add(verified.identityId);
  requireApiVersion(scope.request.query);
  const body = await readBody(scope.request, svc.settings.maxRequestBodyBytes);
  noteRequestSubjects(scope, body);
  return { ...scope, caller: { resource, identityId: verified.identityId, scopes: verified.scopes }, body };
}
