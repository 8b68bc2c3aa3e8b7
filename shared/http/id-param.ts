import type { HttpRequest } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';

/**
 * Ids that come in a request path or body and become store keys or path segments. Whatever route
 * an id arrives on, it may not be `.` or `..` (a path normalised onto another route), nor contain a
 * path or fragment separator (`/`, `\`, `?`, `#`, which Cosmos refuses in ids and which would name
 * another blob), control characters, or be longer than any id this service hands out.
 */
export const MAX_ID_LENGTH = 256;

const UNSAFE_CHARACTERS = /[/\\?#]/;
const hasControlCharacter = (value: string) => [...value].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);

/** Why a value cannot be an id, or undefined when it can. */
function unsafeIdReason(value: string, maxLength = MAX_ID_LENGTH): string | undefined {
  if (value === '.' || value === '..') return 'must not be a dot segment';
  if (value.length > maxLength) return `must be at most ${maxLength} characters`;
  if (UNSAFE_CHARACTERS.test(value) || hasControlCharacter(value)) return 'must not contain /, \\, ?, # or control characters';
  return undefined;
}

/** A 400 naming the parameter when a value cannot be an id. */
export function requireSafeId(value: string, target: string, maxLength = MAX_ID_LENGTH): string {
  const reason = unsafeIdReason(value, maxLength);
  if (reason) throw new ServiceError('ValidationError', `'${target}' ${reason}.`, { target });
  return value;
}

/** Checks every route parameter of a request (done once for every route, before its handler). */
export function requireSafeRouteParams(request: HttpRequest): void {
  for (const [name, value] of Object.entries(request.params)) requireSafeId(value, name);
}
