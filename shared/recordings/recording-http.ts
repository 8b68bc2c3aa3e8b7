import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import * as z from 'zod';
import { maxPageSizeParam, nextLink } from '../http/paging.js';
import { json } from '../http/responses.js';
import { parseWith } from '../http/validation.js';
import type { Resource } from '../resources/resource.js';
import { publicBaseUrl } from '../http/public-base-url.js';
import { RECORDING_ID_PATTERN, recordingLocations, recordingView, type RecordingRecord } from './recording-record.js';

/** Request parsing and response shaping for the recordings trigger adapters. */

export const RECORDINGS_MAX_PAGE_SIZE = 100;

const listQuerySchema = z.object({
  maxPageSize: maxPageSizeParam(RECORDINGS_MAX_PAGE_SIZE),
  skipToken: z.string().regex(RECORDING_ID_PATTERN, 'skipToken must be the value a nextLink carries').optional(),
});

export function listQuery(request: HttpRequest): { maxPageSize: number; before?: string } {
  const raw = { maxPageSize: request.query.get('maxPageSize') ?? undefined, skipToken: request.query.get('skipToken') ?? undefined };
  const query = parseWith(listQuerySchema, raw, 'query');
  return { maxPageSize: query.maxPageSize, ...(query.skipToken ? { before: query.skipToken } : {}) };
}

/** Recording ids in routes are checked by the service (a malformed id is simply not found). */
export const recordingIdParam = (request: HttpRequest): string => request.params.recordingId ?? '';

/** Locations on the same origin the client used, unless the service has a configured public URL. */
export const baseUrlFor = (request: HttpRequest): string => publicBaseUrl(request.url);

export function viewOf(request: HttpRequest, resource: Resource, record: RecordingRecord): Record<string, unknown> {
  return recordingView(record, recordingLocations(baseUrlFor(request), resource, record.id));
}

export function listResponse(request: HttpRequest, resource: Resource, page: { records: RecordingRecord[]; more: boolean }): HttpResponseInit {
  const last = page.records.at(-1);
  return json(200, {
    value: page.records.map((record) => viewOf(request, resource, record)),
    ...(page.more && last ? { nextLink: nextLink(request.url, { skipToken: last.id }) } : {}),
  });
}
