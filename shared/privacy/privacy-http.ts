import type { HttpRequest } from '@azure/functions';
import * as z from 'zod';
import { maxPageSizeParam } from '../http/paging.js';
import { publicBaseUrl } from '../http/public-base-url.js';
import { parseWith } from '../http/validation.js';
import type { Resource } from '../resources/resource.js';
import type { PrivacyRequestRecord } from './privacy-request.js';
import { PHASES } from './request-phases.js';

/** Request parsing and response shaping for the privacy trigger adapters. */

export function privacyLocation(request: HttpRequest, resource: Pick<Resource, 'name'>, path: string): string {
  const url = new URL(path, publicBaseUrl(request.url));
  url.searchParams.set('resource', resource.name.toLowerCase());
  return url.toString();
}

/** The management API's URL of a path under a resource (`/privacy/requests/{id}` -> `.../api/management/resources/{name}/privacy/requests/{id}`). */
export function managementPrivacyLocation(request: HttpRequest, resource: Pick<Resource, 'name'>, path: string): string {
  return new URL(`/api/management/resources/${encodeURIComponent(resource.name.toLowerCase())}${path}`, publicBaseUrl(request.url)).toString();
}

/** Where a path of the privacy API is for this caller: the data plane's (privacyLocation) or the management API's. */
export type PrivacyLocator = (path: string) => string;

/** The wire view of a request: status, progress, counts and where its result is. */
export function requestView(locate: PrivacyLocator, record: PrivacyRequestRecord): Record<string, unknown> {
  const phases = PHASES[record.action];
  const counts = Object.fromEntries(
    Object.entries(record.counts).map(([kind, c]) => [kind, record.action === 'delete' ? c : { found: c.found, held: c.held }]),
  );
  const result =
    record.status !== 'succeeded' || !record.result
      ? undefined
      : record.result.receiptId
        ? { receiptId: record.result.receiptId, receiptLocation: locate(`/privacy/receipts/${record.result.receiptId}`) }
        : record.result.blobName
          ? { location: locate(`/privacy/requests/${record.id}/result`), bytes: record.result.bytes, expiresDateTime: record.expiresAt }
          : { erasedBy: record.result.erasedBy };
  return {
    id: record.id,
    action: record.action,
    status: record.status,
    createdDateTime: record.createdAt,
    lastUpdatedDateTime: record.updatedAt,
    ...(record.completedAt ? { completedDateTime: record.completedAt } : {}),
    subjects: { count: record.subjectHashes.length, hashes: record.subjectHashes },
    progress: {
      phase: phases[record.phase]?.name ?? (record.status === 'succeeded' ? 'done' : 'finishing'),
      phasesCompleted: Math.min(record.phase, phases.length),
      phasesTotal: phases.length,
      ...(record.action === 'delete' ? { round: record.rounds + 1 } : {}),
      ...(record.failures ? { failedAttempts: record.failures } : {}),
    },
    counts,
    holdIds: record.holdIds,
    ...(result ? { result } : {}),
    ...(record.error ? { error: record.error } : {}),
  };
}


const MAX_PAGE = 100;
const listQuerySchema = z.object({
  maxPageSize: maxPageSizeParam(MAX_PAGE),
  skipToken: z.iso.datetime({ error: 'skipToken must be the value a nextLink carries' }).optional(),
  subject: z.string().min(1).max(320).optional(),
});

export function privacyListQuery(request: HttpRequest): { maxPageSize: number; before?: string; subject?: string } {
  const q = parseWith(
    listQuerySchema,
    { maxPageSize: request.query.get('maxPageSize') ?? undefined, skipToken: request.query.get('skipToken') ?? undefined, subject: request.query.get('subject') ?? undefined },
    'query',
  );
  return { maxPageSize: q.maxPageSize, ...(q.skipToken ? { before: q.skipToken } : {}), ...(q.subject ? { subject: q.subject } : {}) };
}
