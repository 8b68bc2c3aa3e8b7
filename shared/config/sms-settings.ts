import * as z from 'zod';
import { GEOGRAPHIES } from '../geography/geographies.js';

/**
 * The SMS carriers of each geography: one SMPP 3.4 connection (a bound transceiver) per configured
 * carrier. A geography's carriers are only its own (there is no default carrier), so an SMS of a
 * resource always goes through a carrier link of the resource's geography.
 *
 *   SMPP_HOST__<GEO>, SMPP_PORT__<GEO>, SMPP_SYSTEM_ID__<GEO>, SMPP_PASSWORD__<GEO>   carrier `default`
 *   SMPP_HOST__<GEO>__<CARRIER>, ...                                                   carrier `<carrier>` (lower-cased)
 *   SMPP_SYSTEM_TYPE__..., SMPP_TLS__... (optional)
 */
export const SMPP_FIELDS = { host: 'SMPP_HOST', port: 'SMPP_PORT', systemId: 'SMPP_SYSTEM_ID', password: 'SMPP_PASSWORD', systemType: 'SMPP_SYSTEM_TYPE', tls: 'SMPP_TLS' } as const;
type SmppField = keyof typeof SMPP_FIELDS;

const carrierSchema = (prefix: string) =>
  z.object({
    host: z.string({ error: `SMPP_HOST${prefix} is required` }).min(1, `SMPP_HOST${prefix} is required`),
    port: z.coerce
      .number({ error: `SMPP_PORT${prefix} must be a port number` })
      .int(`SMPP_PORT${prefix} must be a port number`)
      .min(1, `SMPP_PORT${prefix} must be a port number`)
      .max(65535, `SMPP_PORT${prefix} must be a port number`)
      .default(2775),
    // SMPP 3.4: system_id is a C-octet string of at most 16 octets, password of at most 9 (terminator included).
    systemId: z.string({ error: `SMPP_SYSTEM_ID${prefix} is required` }).min(1, `SMPP_SYSTEM_ID${prefix} is required`).max(15, `SMPP_SYSTEM_ID${prefix} must be at most 15 characters (SMPP 3.4)`),
    password: z.string({ error: `SMPP_PASSWORD${prefix} is required` }).max(8, `SMPP_PASSWORD${prefix} must be at most 8 characters (SMPP 3.4)`),
    systemType: z.string().max(12, `SMPP_SYSTEM_TYPE${prefix} must be at most 12 characters (SMPP 3.4)`).default(''),
    tls: z.enum(['true', 'false', '1', '0'], { error: `SMPP_TLS${prefix} must be true or false` }).transform((v) => v === 'true' || v === '1').default(false),
  });

export type CarrierSettings = z.output<ReturnType<typeof carrierSchema>>;

/** Carriers by geography key, then by carrier name. */
export type SmsCarriers = Record<string, Record<string, CarrierSettings>>;

export const smsTuningSchema = z.object({
  /** Seconds between enquire_link PDUs on an idle link (SMPP_ENQUIRE_LINK_SECONDS). */
  enquireLinkSeconds: z.coerce.number({ error: 'SMPP_ENQUIRE_LINK_SECONDS must be a whole number from 1 to 3600' }).int().min(1, 'SMPP_ENQUIRE_LINK_SECONDS must be at least 1').max(3600, 'SMPP_ENQUIRE_LINK_SECONDS must be at most 3600').default(30),
  /** Longest wait between reconnection attempts (the backoff starts at 1 s and doubles up to this). */
  reconnectMaxSeconds: z.coerce.number({ error: 'SMPP_RECONNECT_MAX_SECONDS must be a whole number from 1 to 600' }).int().min(1, 'SMPP_RECONNECT_MAX_SECONDS must be at least 1').max(600, 'SMPP_RECONNECT_MAX_SECONDS must be at most 600').default(60),
  /** How long a PDU may wait for its response before the link is taken as broken. */
  responseTimeoutMs: z.coerce.number({ error: 'SMPP_RESPONSE_TIMEOUT_MS must be a whole number from 100 to 120000' }).int().min(100, 'SMPP_RESPONSE_TIMEOUT_MS must be at least 100').max(120_000, 'SMPP_RESPONSE_TIMEOUT_MS must be at most 120000').default(10_000),
  /** How many submit_sm may await their response at once on one link (the SMPP window). */
  window: z.coerce.number({ error: 'SMPP_WINDOW must be a whole number from 1 to 100' }).int().min(1, 'SMPP_WINDOW must be at least 1').max(100, 'SMPP_WINDOW must be at most 100').default(10),
});
export type SmsTuning = z.infer<typeof smsTuningSchema>;

type Env = Record<string, string | undefined>;
const SETTING = new RegExp(`^(${Object.values(SMPP_FIELDS).join('|')})__([A-Z]+)(?:__([A-Z0-9_-]+))?$`);

/** The SMPP carrier settings of the environment, by geography and carrier; every problem named by setting. */
export function parseSmsCarriers(env: Env): { carriers: SmsCarriers; problems: string[] } {
  const byField = Object.fromEntries(Object.entries(SMPP_FIELDS).map(([field, name]) => [name, field as SmppField]));
  const raw = new Map<string, Partial<Record<SmppField, string>>>();
  const problems: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    const match = SETTING.exec(name);
    if (!match || value === undefined || value.trim() === '') continue;
    const geography = GEOGRAPHIES.find((g) => g.key.toUpperCase() === match[2]);
    if (!geography) {
      problems.push(`${name}: ${match[2]} is not a geography key (${GEOGRAPHIES.map((g) => g.key.toUpperCase()).join(', ')})`);
      continue;
    }
    const key = `${geography.key}\u0000${(match[3] ?? 'default').toLowerCase()}`;
    raw.set(key, { ...raw.get(key), [byField[match[1]!]!]: value.trim() });
  }
  const carriers: SmsCarriers = {};
  for (const [key, fields] of raw) {
    const [geographyKey, carrier] = key.split('\u0000') as [string, string];
    const prefix = `__${geographyKey.toUpperCase()}${carrier === 'default' ? '' : `__${carrier.toUpperCase()}`}`;
    const parsed = carrierSchema(prefix).safeParse({ ...fields, password: fields.password ?? '' });
    if (!parsed.success) {
      problems.push(...parsed.error.issues.map((issue) => issue.message));
      continue;
    }
    (carriers[geographyKey] ??= {})[carrier] = parsed.data;
  }
  return { carriers, problems };
}
