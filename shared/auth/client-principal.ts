import * as z from 'zod';

/**
 * The signed-in caller as App Service Authentication (Easy Auth) hands it to the app: the
 * `X-MS-CLIENT-PRINCIPAL` request header, base64-encoded JSON `{auth_typ, claims: [{typ, val}],
 * name_typ, role_typ}`. The header is only trustworthy behind Easy Auth, which sets it after
 * validating the session or token and strips any copy a client sent; anywhere else a client can
 * write it, which is why the management API reads it only when principals are configured
 * (shared/auth/management-caller.ts).
 */
export interface ClientPrincipal {
  /** The identity provider (`aad` for Microsoft Entra ID). */
  identityProvider: string;
  /** The Entra object id (`oid`), lower case; undefined when the principal names none. */
  objectId?: string;
  name?: string;
  roles: string[];
}

const OBJECT_ID_CLAIMS = ['http://schemas.microsoft.com/identity/claims/objectidentifier', 'oid'];
const ROLE_CLAIMS = ['roles', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role'];
const NAME_CLAIMS = ['name', 'preferred_username', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'];

const principalSchema = z.object({
  auth_typ: z.string().min(1),
  claims: z.array(z.object({ typ: z.string(), val: z.string() })).max(500),
  name_typ: z.string().optional(),
  role_typ: z.string().optional(),
});

/** Decodes the header; undefined when it is not base64 JSON of that shape. */
export function parseClientPrincipal(header: string): ClientPrincipal | undefined {
  const value = header.trim();
  if (value.length === 0 || value.length > 32_768 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(value, 'base64').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = principalSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { auth_typ, claims, name_typ, role_typ } = parsed.data;
  const first = (types: (string | undefined)[]) => claims.find((c) => types.includes(c.typ))?.val;
  const objectId = first(OBJECT_ID_CLAIMS)?.toLowerCase();
  const name = first([name_typ, ...NAME_CLAIMS]);
  const roleTypes = [role_typ, ...ROLE_CLAIMS];
  return {
    identityProvider: auth_typ,
    ...(objectId ? { objectId } : {}),
    ...(name ? { name } : {}),
    roles: [...new Set(claims.filter((c) => roleTypes.includes(c.typ)).map((c) => c.val))],
  };
}

/** Encodes a principal as Easy Auth does (tests, and documentation of the format). */
export function encodeClientPrincipal(principal: { auth_typ: string; claims: { typ: string; val: string }[]; name_typ?: string; role_typ?: string }): string {
  return Buffer.from(JSON.stringify(principal), 'utf8').toString('base64');
}
