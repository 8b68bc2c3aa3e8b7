import { timingSafeEqual, createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';

/** The management API is authenticated with `Authorization: Bearer <MANAGEMENT_KEY>`. */
export function requireManagementKey(request: HttpRequest, managementKey: string): void {
  const header = request.headers.get('authorization');
  if (!header) {
    throw new ServiceError('Unauthorized', 'The Authorization header is missing; send "Bearer <management key>".', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!match || !constantTimeEquals(match[1]!, managementKey)) {
    throw new ServiceError('Unauthorized', 'The management key is not valid.', {
      headers: { 'www-authenticate': 'Bearer' },
    });
  }
}

/** Compares two secrets in constant time (hashing first so lengths do not leak either). */
export function constantTimeEquals(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}
