import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { encodeClientPrincipal, parseClientPrincipal } from '../../shared/auth/client-principal.js';
import { authenticateManagementCaller, type ManagementPrincipals } from '../../shared/auth/management-caller.js';
import { refusal } from '../support/refusal.js';

/**
 * The boundaries of the management API's caller check (`console-logic` has the main cases): the
 * client principal header's size, alphabet and claim types as App Service and Entra ID name them, and
 * which settings make the header count, a Bearer value's exact form, and every refusal's target and
 * challenge.
 */
const KEY = 'k'.repeat(32);
const OID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const request = (headers: Record<string, string>) => new HttpRequest({ method: 'GET', url: 'http://localhost/api/management/resources', headers });
const header = (claims: { typ: string; val: string }[], extra: { name_typ?: string; role_typ?: string } = {}) => encodeClientPrincipal({ auth_typ: 'aad', claims, ...extra });
const CHALLENGE = { 'www-authenticate': 'Bearer, AppServiceAuthentication login="/.auth/login/aad"' };

describe('the client principal header', () => {
  it('reads the role and name claims under each type App Service and Entra ID use, without name_typ or role_typ', () => {
    const role = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
    expect(parseClientPrincipal(header([{ typ: 'oid', val: OID }, { typ: role, val: 'Privacy.Officer' }, { typ: 'roles', val: 'Reader' }]))?.roles).toEqual(['Privacy.Officer', 'Reader']);
    for (const typ of ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name']) {
      expect(parseClientPrincipal(header([{ typ, val: 'Ada' }]))?.name, typ).toBe('Ada');
    }
    expect(parseClientPrincipal(header([{ typ: 'given_name', val: 'Ada' }]))).toStrictEqual({ identityProvider: 'aad', roles: [] });
  });

  it('takes base64 of at most 32,768 characters, blanks around it trimmed, and nothing else around it', () => {
    const sized = (length: number) => {
      // JSON of length * 3 / 4 bytes: a claim value fills it up (base64 of a multiple of 3 bytes has no padding).
      const base = JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'oid', val: OID }, { typ: 'x', val: '' }] });
      return header([{ typ: 'oid', val: OID }, { typ: 'x', val: 'a'.repeat((length * 3) / 4 - base.length) }]);
    };
    expect(sized(32_768)).toHaveLength(32_768);
    expect(parseClientPrincipal(sized(32_768))?.objectId).toBe(OID);
    expect(sized(32_772)).toHaveLength(32_772);
    expect(parseClientPrincipal(sized(32_772))).toBeUndefined();
    const valid = header([{ typ: 'oid', val: OID }]);
    expect(parseClientPrincipal(` ${valid}  `)?.objectId).toBe(OID);
    // Node's base64 decoder would skip the stray characters; the header is refused instead.
    for (const bad of ['', '   ', `!!${valid}`, `${valid}!!`, `${valid}===`]) expect(parseClientPrincipal(bad), bad.slice(0, 8)).toBeUndefined();
  });
});

describe('the management API caller', () => {
  const withPrincipals = (principals: ManagementPrincipals) => ({ managementKey: KEY, principals });
  const signedIn = header([{ typ: 'oid', val: OID }, { typ: 'roles', val: 'Reader' }, { typ: 'roles', val: 'Privacy.Officer' }]);

  it('honours the principal header when object ids alone or app roles alone are configured, and ignores it when neither is', () => {
    expect(authenticateManagementCaller(request({ 'x-ms-client-principal': signedIn }), withPrincipals({ objectIds: [OID], appRoles: [] }))).toMatchObject({ method: 'principal', objectId: OID });
    // One role of the principal's is enough.
    expect(authenticateManagementCaller(request({ 'x-ms-client-principal': signedIn }), withPrincipals({ objectIds: [], appRoles: ['Privacy.Officer'] }))).toMatchObject({ method: 'principal' });
    expect(refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': signedIn }), withPrincipals({ objectIds: [], appRoles: [] })))).toMatchObject({
      code: 'Unauthorized',
      headers: { 'www-authenticate': 'Bearer' },
    });
  });

  it('takes the key after "Bearer" and any white space, case aside, and nothing before it', () => {
    const none = withPrincipals({ objectIds: [], appRoles: [] });
    const configured = withPrincipals({ objectIds: [OID], appRoles: [] });
    for (const authorization of [`Bearer ${KEY}`, `bearer   ${KEY}`, `BEARER\t${KEY}`]) {
      expect(authenticateManagementCaller(request({ authorization }), none), authorization).toStrictEqual({ method: 'managementKey' });
      // The key wins over a principal header, even one that is not a principal.
      expect(authenticateManagementCaller(request({ authorization, 'x-ms-client-principal': 'garbage' }), configured), authorization).toStrictEqual({ method: 'managementKey' });
    }
    for (const authorization of [`xBearer ${KEY}`, `Basic ${KEY}`, `Bearer ${KEY}x`]) {
      expect(refusal(() => authenticateManagementCaller(request({ authorization }), none)), authorization).toMatchObject({ code: 'Unauthorized', message: 'The management key is not valid.' });
      expect(refusal(() => authenticateManagementCaller(request({ authorization }), configured)), authorization).toMatchObject({ code: 'Unauthorized', headers: CHALLENGE });
    }
  });

  it('refuses a principal of another provider or without an object id naming the header, with the sign-in challenge', () => {
    const configured = withPrincipals({ objectIds: [OID], appRoles: ['Reader'] });
    const google = encodeClientPrincipal({ auth_typ: 'google', claims: [{ typ: 'oid', val: OID }] });
    for (const value of [google, header([{ typ: 'roles', val: 'Reader' }])]) {
      expect(refusal(() => authenticateManagementCaller(request({ 'x-ms-client-principal': value }), configured))).toMatchObject({
        code: 'Unauthorized',
        message: 'The signed-in principal is not a Microsoft Entra ID principal with an object id.',
        target: 'x-ms-client-principal',
        headers: CHALLENGE,
      });
    }
  });
});
