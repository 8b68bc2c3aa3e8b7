import type { RequestScope } from '../http/route-handler.js';
import { jsonOf } from '../http/request-body.js';
import { collectSubjectIds } from './subject-ids.js';

/**
 * Notes the people an authenticated request names: ids in its route parameters and in its JSON body
 * (participants, identifiers). Called only after authentication, so an unauthenticated caller cannot
 * put ids into a resource's logs.
 */
export function noteRequestSubjects(scope: RequestScope, body?: Buffer): void {
  collectSubjectIds(scope.request.params, scope.operation.subjects);
  if (!body || body.length === 0 || !/json/i.test(scope.request.headers.get('content-type') ?? '')) return;
  // Not JSON: the handler answers that; there is nothing to note.
  const parsed = jsonOf(body);
  if (parsed.ok) collectSubjectIds(parsed.value, scope.operation.subjects);
}
