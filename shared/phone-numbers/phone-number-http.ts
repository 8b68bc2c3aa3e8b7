import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';
import { json } from '../http/responses.js';
import type { OperationScope } from '../http/route-handler.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import { operationView } from './number-operations.js';
import type { NumberOperationRecord } from './number-records.js';
import { normalizeNumber } from './pool-number.js';

/** Request parsing and response shaping for the Phone Numbers API adapters (functions/phone-numbers.ts). */

/**
 * An absolute URL on the origin the client dialled, with the endpoint's `resource` and the request's
 * `api-version` (the SDKs follow it as it is and sign it).
 */
export function locationFor(request: HttpRequest, path: string): string {
  const url = new URL(path, new URL(request.url).origin);
  for (const name of ['resource', 'api-version']) {
    const value = request.query.get(name);
    if (value !== null && !url.searchParams.has(name)) url.searchParams.set(name, value);
  }
  return url.toString();
}

/** The `{phoneNumber}` route parameter (with or without its plus), noted in the operation log. */
export function numberParam(request: HttpRequest, operation: OperationScope): string {
  const raw = request.params.phoneNumber ?? '';
  const number = normalizeNumber(raw.trim());
  if (!number) throw new ServiceError('ValidationError', `'${raw}' is not an E.164 phone number such as +14255550123.`, { target: 'phoneNumber' });
  operation.subjects.add(phoneRawId(number));
  return number;
}

/** The 202 that starts a long-running operation, with ACS's headers. */
export function operationAccepted(
  request: HttpRequest,
  operation: NumberOperationRecord,
  extra: { idHeader: string; id: string; location?: string; body?: unknown },
): HttpResponseInit {
  const headers: Record<string, string> = {
    'operation-location': locationFor(request, `/phoneNumbers/operations/${operation.id}`),
    'operation-id': operation.id,
    [extra.idHeader]: extra.id,
    ...(extra.location ? { location: extra.location } : {}),
  };
  if (extra.body === undefined) return { status: 202, headers };
  return json(202, extra.body, headers);
}

export function operationResponse(request: HttpRequest, operation: NumberOperationRecord): HttpResponseInit {
  const view = operationView(operation, (path) => locationFor(request, path));
  const headers: Record<string, string> = {};
  if (typeof view.resourceLocation === 'string') headers.location = view.resourceLocation;
  if (operation.status === 'running' || operation.status === 'notStarted') headers['retry-after'] = '1';
  return json(200, view, headers);
}

/** ACS-shaped answer for the Phone Numbers operations this service does not offer. */
export function notSupported(what: string): never {
  throw new ServiceError('NotImplemented', `${what} is not supported by this service: its numbers come from the operator's pool (search, purchase, release and capability updates are).`);
}
