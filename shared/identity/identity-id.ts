import { randomUUID } from 'node:crypto';

/** ACS communication user ids: `8:acs:{resourceId}_{unique}`. */
export const ACS_USER_PREFIX = '8:acs:';

export function newIdentityId(resourceId: string): string {
  return `${ACS_USER_PREFIX}${resourceId}_${randomUUID()}`;
}

/** The resource an identity id belongs to, or undefined if the id is not an ACS user id. */
export function resourceIdOf(identityId: string): string | undefined {
  if (!identityId.startsWith(ACS_USER_PREFIX)) return undefined;
  const rest = identityId.slice(ACS_USER_PREFIX.length);
  const underscore = rest.indexOf('_');
  return underscore > 0 ? rest.slice(0, underscore) : undefined;
}

/** The longest communication user id accepted anywhere (ours are about 80 characters). */
export const MAX_IDENTITY_ID_LENGTH = 256;

/** A well-formed communication user id: `8:acs:`, a resource part and a unique part, of word characters and hyphens. */
export function isAcsUserId(value: string): boolean {
  return value.length <= MAX_IDENTITY_ID_LENGTH && /^8:acs:[\w-]+_[\w-]+$/.test(value);
}
