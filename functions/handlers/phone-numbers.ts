import type { HttpHandler } from '@azure/functions';
import { type HttpRequest } from '@azure/functions';
import * as z from 'zod';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute, type ResourceScope } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { locationFor, notSupported, numberParam, operationAccepted, operationResponse } from '../../shared/phone-numbers/phone-number-http.js';
import { capabilitiesBodySchema } from '../../shared/phone-numbers/number-release.js';
import { purchasedNumberView } from '../../shared/phone-numbers/pool-number.js';
import { services } from '../../shared/services.js';

/**
 * ACS Phone Numbers API 2025-06-01 (@azure/communication-phone-numbers 1.5), resource key: the
 * resource's numbers, release and capability updates (long-running operations). Search, purchase
 * and the catalogue are in functions/phone-number-search.ts.
 */
const acsRoute = (handlers: Parameters<typeof hmacResourceRoute>[0]) => hmacResourceRoute(handlers, { requireApiVersion: true });
const body = (scope: ResourceScope) => parseJsonBody(scope.request, scope.body) ?? {};
const skipSchema = z.object({ skip: z.coerce.number({ error: 'skip must be a whole number' }).int('skip must be a whole number').min(0, 'skip must not be negative').default(0) });
const skipParam = (request: HttpRequest) => parseWith(skipSchema, { skip: request.query.get('skip') ?? undefined }, 'query').skip;

export const phoneNumbers: HttpHandler = acsRoute({
  // Every number from `skip` on, in one page: the SDK's paging policy cannot follow a nextLink on an
  // endpoint that carries its resource in the query, so `top` is not honoured (README, Phone numbers).
  GET: async ({ request, resource, operation }) => {
    const numbers = (await services().phoneNumbers.list(resource)).slice(skipParam(request));
    for (const n of numbers) operation.subjects.add(`4:${n.phoneNumber}`);
    return json(200, { phoneNumbers: numbers.map(purchasedNumberView) });
  },
});

export const phoneNumber: HttpHandler = acsRoute({
  GET: async ({ request, resource, operation }) => json(200, purchasedNumberView(await services().phoneNumbers.get(resource, numberParam(request, operation)))),
  DELETE: async ({ request, resource, operation }) => {
    const result = await services().phoneNumbers.release(resource, numberParam(request, operation));
    return operationAccepted(request, result, { idHeader: 'release-id', id: result.id.replace(/^release_/, '') });
  },
});

export const phoneNumberCapabilities: HttpHandler = acsRoute({
  PATCH: async (scope) => {
    const phoneNumber = numberParam(scope.request, scope.operation);
    const input = parseWith(capabilitiesBodySchema, body(scope));
    const { operation, number } = await services().phoneNumbers.updateCapabilities(scope.resource, phoneNumber, input);
    return operationAccepted(scope.request, operation, {
      idHeader: 'capabilities-id',
      id: operation.id.replace(/^capabilities_/, ''),
      location: locationFor(scope.request, `/phoneNumbers/${encodeURIComponent(phoneNumber)}`),
      body: purchasedNumberView(number),
    });
  },
});

export const phoneNumberOperation: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => operationResponse(request, await services().phoneNumbers.operation(resource, request.params.operationId ?? '')),
  DELETE: async () => notSupported('Cancelling a phone number operation'),
});

export const operatorInformationSearch: HttpHandler = acsRoute({ POST: async () => notSupported('Operator information search') });
