import type { HttpHandler } from '@azure/functions';
import { type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json, noContent } from '../../shared/http/responses.js';
import { recordingMetadataDocument } from '../../shared/recordings/recording-record.js';
import { baseUrlFor, listQuery, listResponse, recordingIdParam, viewOf } from '../../shared/recordings/recording-http.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';

export const recordings: HttpHandler = hmacResourceRoute({
  GET: async ({ request, resource }) => listResponse(request, resource, await services().recordings.list(resource, listQuery(request))),
  POST: {
    streamed: async ({ request, resource, claimedContentHash, operation }) => {
      const requestId = request.headers.get('repeatability-request-id');
      const { record, created } = await services().recordings.ingestion.upload(resource, {
        body: request.body as AsyncIterable<Uint8Array>,
        contentType: request.headers.get('content-type'),
        claimedContentHash,
        baseUrl: baseUrlFor(request),
        ...(requestId ? { repeatability: { requestId, firstSent: request.headers.get('repeatability-first-sent') ?? undefined } } : {}),
      });
      for (const id of record.participantIds) operation.subjects.add(id);
      const view = viewOf(request, resource, record);
      return json(created ? 201 : 200, view, { location: String(view.metadataLocation) });
    },
  },
});

export const recording: HttpHandler = hmacResourceRoute({
  GET: async ({ request, resource }) => json(200, viewOf(request, resource, await services().recordings.get(resource, recordingIdParam(request)))),
  DELETE: async ({ request, resource }) => {
    await services().recordings.delete(resource, recordingIdParam(request));
    return noContent();
  },
});

export const recordingMetadata: HttpHandler = hmacResourceRoute({
  GET: async ({ request, resource }) => json(200, recordingMetadataDocument(await services().recordings.get(resource, recordingIdParam(request)))),
});

async function download(request: HttpRequest, resource: Resource): Promise<HttpResponseInit> {
  const result = await services().recordings.content(resource, recordingIdParam(request), {
    method: request.method.toUpperCase(),
    range: request.headers.get('range'),
    ifRange: request.headers.get('if-range'),
  });
  return { status: result.status, headers: result.headers, body: result.body };
}

export const recordingContent: HttpHandler = hmacResourceRoute({
  GET: async ({ request, resource }) => download(request, resource),
  HEAD: async ({ request, resource }) => download(request, resource),
});
