import { app, type HttpRequest } from '@azure/functions';
import { managementJsonBody, managementRoute } from '../shared/http/management-route.js';
import { nextLink } from '../shared/http/paging.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { parseWith } from '../shared/http/validation.js';
import { receiptView } from '../shared/privacy/erasure-receipt.js';
import { managementPrivacyLocation, privacyListQuery, requestView } from '../shared/privacy/privacy-http.js';
import { privacyRequestBodySchema } from '../shared/privacy/privacy-subjects.js';
import { parseResourceName, type Resource } from '../shared/resources/resource.js';
import { services } from '../shared/services.js';

/**
 * Data subject requests through the management API: the same requests, results and receipts as the
 * data plane's privacy API (functions/privacy-requests.ts, HMAC with the resource key), for an
 * operator who holds the management key (or is a signed-in principal) rather than every resource's
 * key: the privacy console works through these. Locations point back to these routes.
 */
const resourceOf = (request: HttpRequest) => services().resources.get(parseResourceName(request.params.name));
const locator = (request: HttpRequest, resource: Resource) => (path: string) => managementPrivacyLocation(request, resource, path);

app.http('managementPrivacyRequests', {
  route: 'api/management/resources/{name}/privacy/requests',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    POST: async (scope) => {
      const resource = await resourceOf(scope.request);
      const input = parseWith(privacyRequestBodySchema, await managementJsonBody(scope));
      const repeatabilityId = scope.request.headers.get('repeatability-request-id') ?? undefined;
      const { request: record, created } = await services().privacy.submit(resource, input, repeatabilityId);
      const locate = locator(scope.request, resource);
      return json(created ? 202 : 200, requestView(locate, record), { 'operation-location': locate(`/privacy/requests/${record.id}`), 'retry-after': '5' });
    },
    GET: async ({ request }) => {
      const resource = await resourceOf(request);
      const page = await services().privacy.list(resource, privacyListQuery(request));
      const last = page.requests.at(-1);
      return json(200, {
        value: page.requests.map((r) => requestView(locator(request, resource), r)),
        ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.createdAt }) } : {}),
      });
    },
  }),
});

app.http('managementPrivacyRequest', {
  route: 'api/management/resources/{name}/privacy/requests/{requestId}',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => {
      const resource = await resourceOf(request);
      const record = await services().privacy.get(resource, request.params.requestId ?? '');
      const running = record.status === 'notStarted' || record.status === 'running';
      return json(200, requestView(locator(request, resource), record), running ? { 'retry-after': '5' } : {});
    },
  }),
});

app.http('managementPrivacyRequestResult', {
  route: 'api/management/resources/{name}/privacy/requests/{requestId}/result',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => {
      const result = await services().privacy.result(await resourceOf(request), request.params.requestId ?? '');
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': String(result.length), 'content-disposition': `attachment; filename="${result.name}"` },
        body: result.body,
      };
    },
  }),
});

app.http('managementErasureReceipts', {
  route: 'api/management/resources/{name}/privacy/receipts',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => {
      const page = await services().privacy.receipts(await resourceOf(request), privacyListQuery(request));
      const last = page.receipts.at(-1);
      return json(200, {
        value: page.receipts.map(receiptView),
        ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.completedAt }) } : {}),
      });
    },
  }),
});

app.http('managementErasureReceipt', {
  route: 'api/management/resources/{name}/privacy/receipts/{receiptId}',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => json(200, receiptView(await services().privacy.receipt(await resourceOf(request), request.params.receiptId ?? ''))),
  }),
});
