import type { HttpHandler } from '@azure/functions';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute, type ResourceScope } from '../../shared/http/resource-request.js';
import { json, noContent } from '../../shared/http/responses.js';
import { parseCreateIdentityBody, parseIssueTokenBody } from '../../shared/identity/token-scopes.js';
import { services } from '../../shared/services.js';

/** ACS Identity API 2023-10-01, for @azure/communication-identity 1.3. */
const body = (scope: ResourceScope) => parseJsonBody(scope.request, scope.body) ?? {};
const acsRoute = (handlers: Parameters<typeof hmacResourceRoute>[0]) => hmacResourceRoute(handlers, { requireApiVersion: true });

export const identityCreate: HttpHandler = acsRoute({
  POST: async (scope) => {
    const input = parseCreateIdentityBody(body(scope));
    const result = await services().identities.create(scope.resource, { scopes: input.createTokenWithScopes, expiresInMinutes: input.expiresInMinutes });
    scope.operation.subjects.add(result.identity.id);
    return json(201, result);
  },
});

export const identityDelete: HttpHandler = acsRoute({
  DELETE: async ({ resource, request }) => {
    await services().identities.delete(resource, request.params.id ?? '');
    return noContent();
  },
});

export const identityIssueAccessToken: HttpHandler = acsRoute({
  POST: async (scope) => {
    const input = parseIssueTokenBody(body(scope));
    const token = await services().identities.issueToken(scope.resource, scope.request.params.id ?? '', input.scopes, input.expiresInMinutes);
    return json(200, token);
  },
});

export const identityRevokeAccessTokens: HttpHandler = acsRoute({
  POST: async ({ resource, request }) => {
    await services().identities.revokeTokens(resource, request.params.id ?? '');
    return noContent();
  },
});
