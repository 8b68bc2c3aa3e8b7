import * as z from 'zod';
import { GEOGRAPHIES } from '../geography/geographies.js';

/**
 * Advanced Messaging for WhatsApp: where the WhatsApp Business Cloud API (Graph API) is, and how
 * long the app waits for it.
 *
 *   WHATSAPP_API_BASE_URL            the Graph API with its version (default https://graph.facebook.com/v21.0)
 *   WHATSAPP_API_BASE_URL__<GEO>     the same for one of the five WhatsApp geographies (its own proxy or simulator)
 *   WHATSAPP_REQUEST_TIMEOUT_MS      how long a Graph request may take to answer (and a media download may stall)
 *   WHATSAPP_DEDUPE_HOURS            how long a webhook's message and status ids are remembered (WhatsApp redelivers for days)
 *
 * A channel's access token and app secret are never settings of this list: a channel names the app
 * settings that hold them (`WHATSAPP_...`, see shared/whatsapp/channel.ts), which may be Key Vault
 * references in Azure.
 */
export interface WhatsAppSettings {
  apiBaseUrl: string;
  /** Per-geography base URLs (geography key -> URL), only those set. */
  apiBaseUrls: Record<string, string>;
  requestTimeoutMs: number;
  dedupeHours: number;
}

/** The app's own WhatsApp settings: a channel may not name one of them as its token or secret. */
export const WHATSAPP_SETTING_NAMES = ['WHATSAPP_API_BASE_URL', 'WHATSAPP_REQUEST_TIMEOUT_MS', 'WHATSAPP_DEDUPE_HOURS', 'WHATSAPP_HOUSEKEEPING_SCHEDULE'] as const;

const isLoopbackHost = (hostname: string) => hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);

/** https, or http to a loopback address (the embedded simulator). */
export const isAllowedUpstreamUrl = (value: string): boolean => {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
};

const baseUrl = (name: string) =>
  z
    .string()
    .refine((value) => URL.canParse(value), `${name} must be a URL`)
    .refine(isAllowedUpstreamUrl, `${name} must be an https URL (http only to a loopback address)`)
    .transform((value) => value.replace(/\/+$/, ''));

const schema = z.object({
  apiBaseUrl: baseUrl('WHATSAPP_API_BASE_URL').default('https://graph.facebook.com/v21.0'),
  apiBaseUrls: z.record(z.string(), z.string()),
  requestTimeoutMs: z.coerce
    .number({ error: 'WHATSAPP_REQUEST_TIMEOUT_MS must be a whole number from 100 to 120000' })
    .int('WHATSAPP_REQUEST_TIMEOUT_MS must be a whole number from 100 to 120000')
    .min(100, 'WHATSAPP_REQUEST_TIMEOUT_MS must be at least 100')
    .max(120_000, 'WHATSAPP_REQUEST_TIMEOUT_MS must be at most 120000')
    .default(15_000),
  dedupeHours: z.coerce
    .number({ error: 'WHATSAPP_DEDUPE_HOURS must be a whole number from 1 to 720' })
    .int('WHATSAPP_DEDUPE_HOURS must be a whole number from 1 to 720')
    .min(1, 'WHATSAPP_DEDUPE_HOURS must be at least 1')
    .max(720, 'WHATSAPP_DEDUPE_HOURS must be at most 720')
    .default(168),
});

type Env = Record<string, string | undefined>;

export function parseWhatsAppSettings(env: Env): { settings: WhatsAppSettings; problems: string[] } {
  const get = (name: string) => (env[name] === undefined || env[name]!.trim() === '' ? undefined : env[name]!.trim());
  const problems: string[] = [];
  const apiBaseUrls: Record<string, string> = {};
  for (const geography of GEOGRAPHIES) {
    const name = `WHATSAPP_API_BASE_URL__${geography.key.toUpperCase()}`;
    const value = get(name);
    if (value === undefined) continue;
    if (!geography.whatsAppAdvancedMessaging) {
      problems.push(`${name}: ${geography.name} does not offer Advanced Messaging for WhatsApp`);
      continue;
    }
    const parsed = baseUrl(name).safeParse(value);
    if (parsed.success) apiBaseUrls[geography.key] = parsed.data;
    else problems.push(...parsed.error.issues.map((issue) => issue.message));
  }
  const parsed = schema.safeParse({
    apiBaseUrl: get('WHATSAPP_API_BASE_URL'),
    apiBaseUrls,
    requestTimeoutMs: get('WHATSAPP_REQUEST_TIMEOUT_MS'),
    dedupeHours: get('WHATSAPP_DEDUPE_HOURS'),
  });
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => issue.message));
    return { settings: { apiBaseUrl: 'https://graph.facebook.com/v21.0', apiBaseUrls, requestTimeoutMs: 15_000, dedupeHours: 168 }, problems };
  }
  return { settings: parsed.data, problems };
}

/** The Graph API base URL for a geography (its own, else the default). */
export const whatsAppApiBaseUrl = (settings: WhatsAppSettings, geographyKey: string): string => settings.apiBaseUrls[geographyKey] ?? settings.apiBaseUrl;
