import type { HttpHandler } from '@azure/functions';
import { type HttpRequest } from '@azure/functions';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { receiptAnswer, receiptListAnswer, requestAnswer, requestListAnswer, resultAnswer, submitAnswer } from '../../shared/privacy/privacy-answers.js';
import { managementPrivacyLocation } from '../../shared/privacy/privacy-http.js';
import { parseResourceName, type Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';

/**
 * Data subject requests through the management API: the same requests, results and receipts as the
 * data plane's privacy API (functions/privacy-requests.ts, HMAC with the resource key), for an
 * operator who holds the management key (or is a signed-in principal) rather than every resource's
 * key: the privacy console works through these. Locations point back to these routes.
 */
const resourceOf = (request: HttpRequest) => services().resources.get(parseResourceName(request.params.name));
const locator = (request: HttpRequest, resource: Resource) => (path: string) => managementPrivacyLocation(request, resource, path);

export const managementPrivacyRequests: HttpHandler = managementRoute({
  POST: async (scope) => {
    const resource = await resourceOf(scope.request);
    return submitAnswer(services().privacy, scope.request, resource, await managementJsonBody(scope), locator(scope.request, resource));
  },
  GET: async ({ request }) => {
    const resource = await resourceOf(request);
    return requestListAnswer(services().privacy, request, resource, locator(request, resource));
  },
});

export const managementPrivacyRequest: HttpHandler = managementRoute({
  GET: async ({ request }) => {
    const resource = await resourceOf(request);
    return requestAnswer(services().privacy, request, resource, locator(request, resource));
  },
});

export const managementPrivacyRequestResult: HttpHandler = managementRoute({ GET: async ({ request }) => resultAnswer(services().privacy, request, await resourceOf(request)) });

export const managementErasureReceipts: HttpHandler = managementRoute({ GET: async ({ request }) => receiptListAnswer(services().privacy, request, await resourceOf(request)) });

export const managementErasureReceipt: HttpHandler = managementRoute({ GET: async ({ request }) => receiptAnswer(services().privacy, request, await resourceOf(request)) });
