import * as z from 'zod';
import { geographyByKey } from '../geography/geographies.js';

/**
 * E-mail settings: the SMTP relay of each geography and the e-mail periods. A relay is named by
 * `SMTP_HOST`, `SMTP_PORT`, `SMTP_TLS`, `SMTP_USER` and `SMTP_PASSWORD`, each with the `__<GEO>`
 * suffix for one geography (`SMTP_HOST__EUROPE`), so a European resource's mail leaves through the
 * European relay. Without strict residency a geography without a relay of its own uses the
 * unsuffixed one; in strict residency it never does, and a geography without its own relay has no
 * e-mail (sends answer 503), while two geographies naming the same relay fail the start. TLS is
 * always on (`starttls`, the default, or `implicit`); nothing turns certificate checks off.
 */
export type SmtpTlsMode = 'starttls' | 'implicit';

export interface SmtpRelay {
  host: string;
  port: number;
  tls: SmtpTlsMode;
  user?: string;
  password?: string;
  /** The setting suffix it came from: `__EUROPE`, or '' for the default relay. */
  suffix: string;
}

export interface EmailSettings {
  /** The relay each enabled geography sends through, by geography key; a geography without one has no e-mail. */
  relays: Record<string, SmtpRelay>;
  /** How long a finished send operation's status is kept (EMAIL_OPERATION_RETENTION_HOURS). */
  operationRetentionHours: number;
  /** How long a hard-bounced address stays on the resource's suppression list (EMAIL_SUPPRESSION_DAYS). */
  suppressionDays: number;
  /** The first retry of a temporary failure waits this long, doubling up to `retryMaxSeconds`. */
  retryBaseSeconds: number;
  retryMaxSeconds: number;
  /** After this long since the send was accepted, a recipient still failing temporarily is dropped. */
  retryWindowHours: number;
  /** Retry-After of the send and status answers (the SDK polls at this interval). */
  statusRetryAfterSeconds: number;
  /** Scales ACS's e-mail rate limits; 0 turns them off (EMAIL_RATE_LIMIT_FACTOR). */
  rateLimitFactor: number;
  /** SMTP connections kept open per relay. */
  relayConnections: number;
}

type Env = Record<string, string | undefined>;

const RELAY_FIELDS = { host: 'SMTP_HOST', port: 'SMTP_PORT', tls: 'SMTP_TLS', user: 'SMTP_USER', password: 'SMTP_PASSWORD' } as const;

const wholeNumber = (name: string, min: number, max: number, fallback: number) =>
  z.coerce
    .number({ error: `${name} must be a whole number from ${min} to ${max}` })
    .int(`${name} must be a whole number from ${min} to ${max}`)
    .min(min, `${name} must be at least ${min}`)
    .max(max, `${name} must be at most ${max}`)
    .default(fallback);

const tuningSchema = z.object({
  operationRetentionHours: wholeNumber('EMAIL_OPERATION_RETENTION_HOURS', 1, 720, 48),
  suppressionDays: wholeNumber('EMAIL_SUPPRESSION_DAYS', 1, 365, 14),
  retryBaseSeconds: wholeNumber('EMAIL_RETRY_BASE_SECONDS', 1, 3600, 60),
  retryMaxSeconds: wholeNumber('EMAIL_RETRY_MAX_SECONDS', 1, 86_400, 3600),
  // At most a day, so the storage lifecycle backstop (2 days) never deletes content still being retried.
  retryWindowHours: wholeNumber('EMAIL_RETRY_WINDOW_HOURS', 1, 24, 24),
  statusRetryAfterSeconds: wholeNumber('EMAIL_STATUS_RETRY_AFTER_SECONDS', 1, 120, 5),
  rateLimitFactor: z.coerce
    .number({ error: 'EMAIL_RATE_LIMIT_FACTOR must be a number' })
    .min(0, 'EMAIL_RATE_LIMIT_FACTOR must be 0 (off) or more')
    .max(1000, 'EMAIL_RATE_LIMIT_FACTOR must be at most 1000')
    .default(1),
  relayConnections: wholeNumber('EMAIL_RELAY_CONNECTIONS', 1, 50, 5),
});

/** A host name or IP address, without a scheme, port or path. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[?[0-9A-Fa-f:.]+\]?$/;

function relaySchema(suffix: string) {
  const name = (field: keyof typeof RELAY_FIELDS) => `${RELAY_FIELDS[field]}${suffix}`;
  return z
    .object({
      host: z.string().regex(HOST, `${name('host')} must be a host name or IP address (no scheme, port or path)`),
      port: z.coerce.number({ error: `${name('port')} must be a port number` }).int(`${name('port')} must be a port number`).min(1, `${name('port')} must be a port number`).max(65_535, `${name('port')} must be a port number`).optional(),
      tls: z.enum(['starttls', 'implicit'], { error: `${name('tls')} must be starttls or implicit (TLS cannot be turned off)` }).default('starttls'),
      user: z.string().min(1).optional(),
      password: z.string().min(1).optional(),
    })
    .refine((relay) => (relay.user === undefined) === (relay.password === undefined), `${name('user')} and ${name('password')} go together`)
    .transform((relay): SmtpRelay => ({ ...relay, port: relay.port ?? (relay.tls === 'implicit' ? 465 : 587), suffix }));
}

function readRelay(env: Env, suffix: string): Record<string, string | undefined> | undefined {
  const get = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim());
  const raw = Object.fromEntries(Object.entries(RELAY_FIELDS).map(([field, name]) => [field, get(`${name}${suffix}`)]));
  return Object.values(raw).some((v) => v !== undefined) ? raw : undefined;
}

const issuesOf = (error: z.ZodError) => error.issues.map((issue) => issue.message);

/** Parses the e-mail settings; every problem is returned by setting name (the app does not start with any). */
export function parseEmailSettings(env: Env, context: { enabledGeographies: string[]; strictResidency: boolean }): { settings: EmailSettings; problems: string[] } {
  const problems: string[] = [];
  const get = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]);
  const tuning = tuningSchema.safeParse({
    operationRetentionHours: get('EMAIL_OPERATION_RETENTION_HOURS'),
    suppressionDays: get('EMAIL_SUPPRESSION_DAYS'),
    retryBaseSeconds: get('EMAIL_RETRY_BASE_SECONDS'),
    retryMaxSeconds: get('EMAIL_RETRY_MAX_SECONDS'),
    retryWindowHours: get('EMAIL_RETRY_WINDOW_HOURS'),
    statusRetryAfterSeconds: get('EMAIL_STATUS_RETRY_AFTER_SECONDS'),
    rateLimitFactor: get('EMAIL_RATE_LIMIT_FACTOR'),
    relayConnections: get('EMAIL_RELAY_CONNECTIONS'),
  });
  if (!tuning.success) problems.push(...issuesOf(tuning.error));

  const parseRelay = (suffix: string): SmtpRelay | undefined => {
    const raw = readRelay(env, suffix);
    if (!raw) return undefined;
    const parsed = relaySchema(suffix).safeParse(raw);
    if (parsed.success) return parsed.data;
    problems.push(...issuesOf(parsed.error));
    return undefined;
  };
  const fallback = parseRelay('');
  const relays: Record<string, SmtpRelay> = {};
  const users = new Map<string, string[]>();
  for (const key of context.enabledGeographies) {
    const suffix = `__${key.toUpperCase()}`;
    const relay = parseRelay(suffix) ?? (context.strictResidency ? undefined : fallback);
    if (!relay) continue;
    relays[key] = relay;
    const address = `${relay.host.toLowerCase()}:${relay.port}`;
    users.set(address, [...(users.get(address) ?? []), key]);
  }
  if (context.strictResidency) {
    for (const [address, keys] of users) {
      if (keys.length < 2) continue;
      const names = keys.map((k) => `SMTP_HOST__${k.toUpperCase()}`).join(' and ');
      problems.push(`STRICT_RESIDENCY: ${names} name the same relay (${address}); mail of ${keys.map((k) => geographyByKey(k).name).join(' and ')} must leave through a relay of its own geography`);
    }
  }
  const defaults = tuningSchema.parse({});
  return { settings: { relays, ...(tuning.success ? tuning.data : defaults) }, problems };
}
