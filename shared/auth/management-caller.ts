import type { HttpRequest } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';
import { parseClientPrincipal } from './client-principal.js';
import { constantTimeEquals, requireManagementKey } from './management-auth.js';

/** Who called the management API: the key's holder, or a principal App Service Authentication signed in. */
export type ManagementCaller = { method: 'managementKey' } | { method: 'principal'; objectId: string; name?: string; roles: string[] };

export interface ManagementPrincipals {
  /** Microsoft Entra object ids allowed (lower case). */
  objectIds: string[];
  /** App role values: a principal holding any of them is allowed. */
  appRoles: string[];
}

/** Where the console sends a browser to sign in through App Service Authentication. */
export const EASY_AUTH_LOGIN_PATH = '/.auth/login/aad';

export const principalsConfigured = (principals: ManagementPrincipals) => principals.objectIds.length > 0 || principals.appRoles.length > 0;

/**
 * Authenticates a management API call. The management key always works (`Authorization: Bearer
 * <key>`). When principals are configured, a request without a valid key is accepted on the
 * strength of the `X-MS-CLIENT-PRINCIPAL` header that App Service Authentication sets (its Entra
 * object id listed, or one of the app roles held); without principals configured the header is
 * ignored, since outside Easy Auth anyone can send it. The 401s then also name the sign-in page.
 */
export function authenticateManagementCaller(request: HttpRequest, options: { managementKey: string; principals: ManagementPrincipals }): ManagementCaller {
  const configured = principalsConfigured(options.principals);
  const authorization = request.headers.get('authorization');
  const bearer = authorization ? /^Bearer\s+(.+)$/i.exec(authorization.trim())?.[1] : undefined;
  if (bearer !== undefined && constantTimeEquals(bearer, options.managementKey)) return { method: 'managementKey' };
  const header = request.headers.get('x-ms-client-principal');
  if (configured && header !== null) return principalCaller(header, options.principals);
  try {
    requireManagementKey(request, options.managementKey);
  } catch (error) {
    if (!configured || !(error instanceof ServiceError)) throw error;
    throw new ServiceError(
      'Unauthorized',
      authorization
        ? error.message
        : `The Authorization header is missing; send "Bearer <management key>", or sign in with Microsoft Entra ID at ${EASY_AUTH_LOGIN_PATH}.`,
      { headers: { 'www-authenticate': `Bearer, AppServiceAuthentication login="${EASY_AUTH_LOGIN_PATH}"` } },
    );
  }
  return { method: 'managementKey' };
}

function principalCaller(header: string, principals: ManagementPrincipals): ManagementCaller {
  const principal = parseClientPrincipal(header);
  const challenge = { 'www-authenticate': `Bearer, AppServiceAuthentication login="${EASY_AUTH_LOGIN_PATH}"` };
  if (!principal) {
    throw new ServiceError('Unauthorized', 'The X-MS-CLIENT-PRINCIPAL header is not a client principal (base64-encoded JSON as App Service Authentication sets it).', {
      target: 'x-ms-client-principal',
      headers: challenge,
    });
  }
  if (principal.identityProvider !== 'aad' || !principal.objectId) {
    throw new ServiceError('Unauthorized', 'The signed-in principal is not a Microsoft Entra ID principal with an object id.', { target: 'x-ms-client-principal', headers: challenge });
  }
  const allowed = principals.objectIds.includes(principal.objectId) || principal.roles.some((role) => principals.appRoles.includes(role));
  if (!allowed) {
    throw new ServiceError(
      'Forbidden',
      `The signed-in principal (object id ${principal.objectId}) may not use the management API: its object id is not in MANAGEMENT_PRINCIPALS and it holds none of the app roles in MANAGEMENT_APP_ROLES.`,
      { target: 'x-ms-client-principal' },
    );
  }
  return { method: 'principal', objectId: principal.objectId, ...(principal.name ? { name: principal.name } : {}), roles: principal.roles };
}
