import { createHash, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { WHATSAPP_SETTING_NAMES } from '../config/whatsapp-settings.js';

/**
 * An Advanced Messaging channel of a resource: a WhatsApp Business phone number (its id at WhatsApp
 * and its business account's id), registered under a channel registration id (a GUID, what the
 * Messages API's `channelRegistrationId` names). The secrets are not stored: the channel names the
 * app settings that hold the access token (Graph API calls) and the app secret (webhook
 * signatures), so they live in the app's settings (in Azure, Key Vault references) and are read
 * when used. The webhook verify token is kept only as its SHA-256.
 */
export const CHANNEL_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Names a channel may give its secrets: `WHATSAPP_` and upper-case letters, digits and underscores, not one of the app's own settings. */
export const settingReferenceSchema = (field: string) =>
  z
    .string({ error: `${field} is required: the NAME of the app setting that holds it` })
    .regex(/^WHATSAPP_[A-Z0-9_]{1,100}$/, `${field} must be the name of an app setting: WHATSAPP_ followed by upper-case letters, digits or underscores`)
    .refine((name) => !WHATSAPP_SETTING_NAMES.some((own) => name === own || name.startsWith(`${own}__`)), `${field} must not name one of the app's own WhatsApp settings`);

const graphIdSchema = (field: string) => z.string({ error: `${field} is required` }).regex(/^\d{1,32}$/, `${field} must be WhatsApp's numeric id`);

export const putChannelBodySchema = z.strictObject({
  kind: z.literal('whatsApp', { error: "kind must be 'whatsApp'" }).default('whatsApp'),
  phoneNumberId: graphIdSchema('phoneNumberId'),
  businessAccountId: graphIdSchema('businessAccountId'),
  accessTokenSetting: settingReferenceSchema('accessTokenSetting'),
  appSecretSetting: settingReferenceSchema('appSecretSetting'),
  webhookVerifyToken: z
    .string({ error: 'webhookVerifyToken is required' })
    .min(8, 'webhookVerifyToken must have 8 to 256 characters')
    .max(256, 'webhookVerifyToken must have 8 to 256 characters')
    .regex(/^[\x21-\x7e]+$/, 'webhookVerifyToken must be printable ASCII without spaces'),
});
export type PutChannelBody = z.infer<typeof putChannelBodySchema>;

export interface ChannelRecord {
  /** The channel registration id (lower-case GUID). */
  id: string;
  resourceId: string;
  kind: 'whatsAppChannel';
  phoneNumberId: string;
  businessAccountId: string;
  accessTokenSetting: string;
  appSecretSetting: string;
  /** SHA-256 (hex) of the webhook verify token. */
  webhookVerifyTokenHash: string;
  createdAt: string;
  updatedAt: string;
}

export const verifyTokenHash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** Whether a token is the channel's webhook verify token (compared in constant time). */
export function isVerifyToken(channel: ChannelRecord, token: string): boolean {
  const given = Buffer.from(verifyTokenHash(token), 'hex');
  const expected = Buffer.from(channel.webhookVerifyTokenHash, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The URL WhatsApp is given for a channel's webhook (callback URL of the app or the phone number). */
export const webhookUrl = (baseUrl: string, resourceName: string, channelId: string) =>
  `${baseUrl.replace(/\/+$/, '')}/api/whatsapp/webhooks/${encodeURIComponent(resourceName.toLowerCase())}/${channelId}`;

/** The management API's view of a channel: no secret and no verify token. */
export function channelView(channel: ChannelRecord, baseUrl: string, resourceName: string): Record<string, unknown> {
  return {
    id: channel.id,
    kind: 'whatsApp',
    phoneNumberId: channel.phoneNumberId,
    businessAccountId: channel.businessAccountId,
    accessTokenSetting: channel.accessTokenSetting,
    appSecretSetting: channel.appSecretSetting,
    webhookUrl: webhookUrl(baseUrl, resourceName, channel.id),
    createdAt: channel.createdAt,
    updatedAt: channel.updatedAt,
  };
}
