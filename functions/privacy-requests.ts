import { app } from '@azure/functions';
import { nextLink } from '../shared/http/paging.js';
import { parseJsonBody } from '../shared/http/request-body.js';
import { hmacResourceRoute } from '../shared/http/resource-request.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { parseWith } from '../shared/http/validation.js';
import { receiptView } from '../shared/privacy/erasure-receipt.js';
import { privacyListQuery, privacyLocation, requestView } from '../shared/privacy/privacy-http.js';
import { privacyRequestBodySchema } from '../shared/privacy/privacy-subjects.js';
import { services } from '../shared/services.js';

/**
 * Data subject requests (our own API, HMAC with the resource key): submit an inventory, export or
 * delete for one person's identities, phone numbers and e-mail addresses; poll it; download its
 * result; list erasure receipts. See README, Data subject requests. The operation log records these
 * operations without their subjects (the request itself is the record of whom it concerned).
 */
const privacyRoute = (handlers: Parameters<typeof hmacResourceRoute>[0]) => hmacResourceRoute(handlers, { logSubjects: false });

app.http('privacyRequests', {
  route: 'privacy/requests',
  methods: [...ALL_METHODS],
  handler: privacyRoute({
    POST: async ({ request, resource, body }) => {
      const input = parseWith(privacyRequestBodySchema, parseJsonBody(request, body) ?? {});
      const repeatabilityId = request.headers.get('repeatability-request-id') ?? undefined;
      const { request: record, created } = await services().privacy.submit(resource, input, repeatabilityId);
      const location = privacyLocation(request, resource, `/privacy/requests/${record.id}`);
      return json(created ? 202 : 200, requestView((path) => privacyLocation(request, resource, path), record), { 'operation-location': location, 'retry-after': '5' });
    },
    GET: async ({ request, resource }) => {
      const query = privacyListQuery(request);
      const page = await services().privacy.list(resource, query);
      const last = page.requests.at(-1);
      return json(200, {
        value: page.requests.map((r) => requestView((path) => privacyLocation(request, resource, path), r)),
        ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.createdAt }) } : {}),
      });
    },
  }),
});

app.http('privacyRequest', {
  route: 'privacy/requests/{requestId}',
  methods: [...ALL_METHODS],
  handler: privacyRoute({
    GET: async ({ request, resource }) => {
      const record = await services().privacy.get(resource, request.params.requestId ?? '');
      const running = record.status === 'notStarted' || record.status === 'running';
      return json(200, requestView((path) => privacyLocation(request, resource, path), record), running ? { 'retry-after': '5' } : {});
    },
  }),
});

app.http('privacyRequestResult', {
  route: 'privacy/requests/{requestId}/result',
  methods: [...ALL_METHODS],
  handler: privacyRoute({
    GET: async ({ request, resource }) => {
      const result = await services().privacy.result(resource, request.params.requestId ?? '');
      return {
        status: 200,
        headers: { 'content-type': 'application/json', 'content-length': String(result.length), 'content-disposition': `attachment; filename="${result.name}"` },
        body: result.body,
      };
    },
  }),
});

app.http('erasureReceipts', {
  route: 'privacy/receipts',
  methods: [...ALL_METHODS],
  handler: privacyRoute({
    GET: async ({ request, resource }) => {
      const page = await services().privacy.receipts(resource, privacyListQuery(request));
      const last = page.receipts.at(-1);
      return json(200, {
        value: page.receipts.map(receiptView),
        ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.completedAt }) } : {}),
      });
    },
  }),
});

app.http('erasureReceipt', {
  route: 'privacy/receipts/{receiptId}',
  methods: [...ALL_METHODS],
  handler: privacyRoute({
    GET: async ({ request, resource }) => json(200, receiptView(await services().privacy.receipt(resource, request.params.receiptId ?? ''))),
  }),
});
