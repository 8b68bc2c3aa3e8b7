import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { nextLink } from '../http/paging.js';
import { json } from '../http/responses.js';
import { parseWith } from '../http/validation.js';
import type { Resource } from '../resources/resource.js';
import { receiptView } from './erasure-receipt.js';
import { privacyListQuery, requestView, type PrivacyLocator } from './privacy-http.js';
import type { PrivacyService } from './privacy-service.js';
import { privacyRequestBodySchema } from './privacy-subjects.js';

/**
 * The privacy API's answers, the same through the data plane (functions/privacy-requests.ts, HMAC
 * with the resource key) and the management API (functions/management-privacy.ts): only how the
 * resource is found and where `locate` points differ.
 */
export async function submitAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource, body: unknown, locate: PrivacyLocator): Promise<HttpResponseInit> {
  const input = parseWith(privacyRequestBodySchema, body ?? {});
  const repeatabilityId = request.headers.get('repeatability-request-id') ?? undefined;
  const { request: record, created } = await privacy.submit(resource, input, repeatabilityId);
  return json(created ? 202 : 200, requestView(locate, record), { 'operation-location': locate(`/privacy/requests/${record.id}`), 'retry-after': '5' });
}

export async function requestListAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource, locate: PrivacyLocator): Promise<HttpResponseInit> {
  const page = await privacy.list(resource, privacyListQuery(request));
  const last = page.requests.at(-1);
  return json(200, {
    value: page.requests.map((r) => requestView(locate, r)),
    ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.createdAt }) } : {}),
  });
}

export async function requestAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource, locate: PrivacyLocator): Promise<HttpResponseInit> {
  const record = await privacy.get(resource, request.params.requestId ?? '');
  const running = record.status === 'notStarted' || record.status === 'running';
  return json(200, requestView(locate, record), running ? { 'retry-after': '5' } : {});
}

export async function resultAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource): Promise<HttpResponseInit> {
  const result = await privacy.result(resource, request.params.requestId ?? '');
  return {
    status: 200,
    headers: { 'content-type': 'application/json', 'content-length': String(result.length), 'content-disposition': `attachment; filename="${result.name}"` },
    body: result.body,
  };
}

export async function receiptListAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource): Promise<HttpResponseInit> {
  const page = await privacy.receipts(resource, privacyListQuery(request));
  const last = page.receipts.at(-1);
  return json(200, {
    value: page.receipts.map(receiptView),
    ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.completedAt }) } : {}),
  });
}

export async function receiptAnswer(privacy: PrivacyService, request: HttpRequest, resource: Resource): Promise<HttpResponseInit> {
  return json(200, receiptView(await privacy.receipt(resource, request.params.receiptId ?? '')));
}
