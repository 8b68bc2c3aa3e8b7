import type { HttpHandler } from '@azure/functions';
import { type HttpRequest } from '@azure/functions';
import * as z from 'zod';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute, type ResourceScope } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { areaCodes, countries, localities, offerings, preferredLanguage } from '../../shared/phone-numbers/number-catalogue.js';
import { countryCodeParam, purchaseBodySchema, searchBodySchema, searchResultView } from '../../shared/phone-numbers/number-search.js';
import { locationFor, notSupported, operationAccepted } from '../../shared/phone-numbers/phone-number-http.js';
import { ASSIGNMENT_TYPES, PHONE_NUMBER_TYPES } from '../../shared/phone-numbers/pool-number.js';
import { services } from '../../shared/services.js';

/**
 * ACS Phone Numbers API 2025-06-01, resource key: what the resource's geography's pool offers
 * (countries, localities, offerings, area codes), search (a reservation) and purchase (long-running
 * operations). Browsing and reservations of the 2025 API answer 501 (not supported).
 */
const acsRoute = (handlers: Parameters<typeof hmacResourceRoute>[0]) => hmacResourceRoute(handlers, { requireApiVersion: true });
const body = (scope: ResourceScope) => parseJsonBody(scope.request, scope.body) ?? {};
const country = (request: HttpRequest) => parseWith(z.object({ countryCode: countryCodeParam }), { countryCode: request.params.countryCode ?? '' }, 'route').countryCode;

const listQuery = z.object({
  phoneNumberType: z.enum(PHONE_NUMBER_TYPES, { error: `phoneNumberType must be one of ${PHONE_NUMBER_TYPES.join(', ')}` }).optional(),
  assignmentType: z.enum(ASSIGNMENT_TYPES, { error: `assignmentType must be one of ${ASSIGNMENT_TYPES.join(', ')}` }).optional(),
  administrativeDivision: z.string().max(10).optional(),
  locality: z.string().max(100).optional(),
});
const query = (request: HttpRequest) =>
  parseWith(
    listQuery,
    Object.fromEntries(['phoneNumberType', 'assignmentType', 'administrativeDivision', 'locality'].map((name) => [name, request.query.get(name) ?? undefined])),
    'query',
  );

export const availablePhoneNumberCountries: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => json(200, { countries: countries(await services().phoneNumbers.free(resource), preferredLanguage(request.headers.get('accept-language'))) }),
});

export const availablePhoneNumberLocalities: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => {
    const q = query(request);
    const filter = { countryCode: country(request), ...(q.administrativeDivision ? { administrativeDivision: q.administrativeDivision } : {}), ...(q.phoneNumberType ? { phoneNumberType: q.phoneNumberType } : {}) };
    return json(200, { phoneNumberLocalities: localities(await services().phoneNumbers.free(resource), filter) });
  },
});

export const availablePhoneNumberOfferings: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => {
    const q = query(request);
    const filter = { countryCode: country(request), ...(q.phoneNumberType ? { phoneNumberType: q.phoneNumberType } : {}), ...(q.assignmentType ? { assignmentType: q.assignmentType } : {}) };
    return json(200, { phoneNumberOfferings: offerings(await services().phoneNumbers.free(resource), filter) });
  },
});

export const availablePhoneNumberAreaCodes: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => {
    const q = query(request);
    const countryCode = country(request);
    const phoneNumberType = parseWith(z.object({ phoneNumberType: listQuery.shape.phoneNumberType.unwrap() }), { phoneNumberType: q.phoneNumberType }, 'query').phoneNumberType;
    const filter = { countryCode, phoneNumberType, ...(q.assignmentType ? { assignmentType: q.assignmentType } : {}), ...(q.locality ? { locality: q.locality } : {}), ...(q.administrativeDivision ? { administrativeDivision: q.administrativeDivision } : {}) };
    return json(200, { areaCodes: areaCodes(await services().phoneNumbers.free(resource), filter) });
  },
});

export const availablePhoneNumberSearch: HttpHandler = acsRoute({
  POST: async (scope) => {
    const countryCode = country(scope.request);
    const input = parseWith(searchBodySchema, body(scope));
    const { operation, search } = await services().phoneNumbers.search(scope.resource, countryCode, input);
    const searchId = operation.input.searchId!;
    for (const n of search?.phoneNumbers ?? []) scope.operation.subjects.add(`4:${n}`);
    return operationAccepted(scope.request, operation, {
      idHeader: 'search-id',
      id: searchId,
      location: locationFor(scope.request, `/availablePhoneNumbers/searchResults/${searchId}`),
      ...(search ? { body: searchResultView(search) } : {}),
    });
  },
});

export const availablePhoneNumberSearchResult: HttpHandler = acsRoute({
  GET: async ({ request, resource }) => json(200, searchResultView(await services().phoneNumbers.searchResult(resource, request.params.searchId ?? ''))),
});

export const availablePhoneNumberPurchase: HttpHandler = acsRoute({
  POST: async (scope) => {
    const input = parseWith(purchaseBodySchema, body(scope));
    const operation = await services().phoneNumbers.purchase(scope.resource, input.searchId);
    for (const subject of operation.subjects) scope.operation.subjects.add(subject);
    return operationAccepted(scope.request, operation, { idHeader: 'purchase-id', id: input.searchId });
  },
});

export const availablePhoneNumberBrowse: HttpHandler = acsRoute({ POST: async () => notSupported('Browsing available phone numbers') });

export const phoneNumberReservations: HttpHandler = acsRoute({ GET: async () => notSupported('Phone number reservations') });

export const phoneNumberReservation: HttpHandler = acsRoute({
  GET: async () => notSupported('Phone number reservations'),
  PATCH: async () => notSupported('Phone number reservations'),
  DELETE: async () => notSupported('Phone number reservations'),
});

export const phoneNumberReservationPurchase: HttpHandler = acsRoute({ POST: async () => notSupported('Purchasing a phone number reservation') });
