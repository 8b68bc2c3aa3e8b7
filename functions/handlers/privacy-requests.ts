import type { HttpHandler } from '@azure/functions';
import { type HttpRequest } from '@azure/functions';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { receiptAnswer, receiptListAnswer, requestAnswer, requestListAnswer, resultAnswer, submitAnswer } from '../../shared/privacy/privacy-answers.js';
import { privacyLocation } from '../../shared/privacy/privacy-http.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';

/**
 * Data subject requests (our own API, HMAC with the resource key): submit an inventory, export or
 * delete for one person's identities, phone numbers and e-mail addresses; poll it; download its
 * result; list erasure receipts. See README, Data subject requests. The operation log records these
 * operations without their subjects (the request itself is the record of whom it concerned).
 */
const privacyRoute = (handlers: Parameters<typeof hmacResourceRoute>[0]) => hmacResourceRoute(handlers, { logSubjects: false });
const locator = (request: HttpRequest, resource: Resource) => (path: string) => privacyLocation(request, resource, path);

export const privacyRequests: HttpHandler = privacyRoute({
  POST: ({ request, resource, body }) => submitAnswer(services().privacy, request, resource, parseJsonBody(request, body), locator(request, resource)),
  GET: ({ request, resource }) => requestListAnswer(services().privacy, request, resource, locator(request, resource)),
});

export const privacyRequest: HttpHandler = privacyRoute({ GET: ({ request, resource }) => requestAnswer(services().privacy, request, resource, locator(request, resource)) });

export const privacyRequestResult: HttpHandler = privacyRoute({ GET: ({ request, resource }) => resultAnswer(services().privacy, request, resource) });

export const erasureReceipts: HttpHandler = privacyRoute({ GET: ({ request, resource }) => receiptListAnswer(services().privacy, request, resource) });

export const erasureReceipt: HttpHandler = privacyRoute({ GET: ({ request, resource }) => receiptAnswer(services().privacy, request, resource) });
