import * as z from 'zod';
import { CHANNEL_ID_PATTERN } from './channel.js';

/**
 * The body of `POST /messages/notifications:send` (Messages API 2024-08-30, NotificationContent
 * and its kinds), as @azure-rest/communication-messages 2.0 sends it: `channelRegistrationId`,
 * `to` (1-100 WhatsApp user ids: phone numbers, with or without `+`) and the kind's fields. The
 * limits are WhatsApp's (text 4096 characters, captions 1024). Later API versions' kinds
 * (reaction, sticker, interactive) are 400s, as a 2024-08-30 service answers them.
 */
export const MAX_RECIPIENTS = 100;

/** A WhatsApp user id: a phone number in international form, `+` optional, spaces, dots, dashes and brackets ignored. */
export const whatsAppUserId = (value: string): string | undefined => {
  const digits = value.replace(/[\s().-]/g, '').replace(/^\+/, '');
  return /^[1-9]\d{6,14}$/.test(digits) ? digits : undefined;
};

const mediaUri = z
  .string({ error: 'mediaUri is required' })
  .max(2048, 'mediaUri must be at most 2048 characters')
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), 'mediaUri must be an absolute http or https URL');
const caption = z.string().max(1024, 'caption must be at most 1024 characters').optional();
const fileName = z.string().max(240, 'fileName must be at most 240 characters').optional();

const base = {
  channelRegistrationId: z.string({ error: 'channelRegistrationId is required' }).regex(CHANNEL_ID_PATTERN, 'channelRegistrationId must be a GUID'),
  to: z
    .array(z.string({ error: 'to must list phone numbers' }).refine((value) => whatsAppUserId(value) !== undefined, 'each to must be a phone number in international form'), {
      error: 'to must be a list of recipients',
    })
    .min(1, `to must list 1 to ${MAX_RECIPIENTS} recipients`)
    .max(MAX_RECIPIENTS, `to must list 1 to ${MAX_RECIPIENTS} recipients`),
};

const templateValue = z.discriminatedUnion(
  'kind',
  [
    z.object({ name: z.string().min(1), kind: z.literal('text'), text: z.string({ error: 'text is required' }).max(1024, 'text must be at most 1024 characters') }),
    z.object({ name: z.string().min(1), kind: z.literal('image'), url: mediaUri, caption, fileName }),
    z.object({ name: z.string().min(1), kind: z.literal('document'), url: mediaUri, caption, fileName }),
    z.object({ name: z.string().min(1), kind: z.literal('video'), url: mediaUri, caption, fileName }),
    z.object({ name: z.string().min(1), kind: z.literal('location'), latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180), locationName: z.string().max(1000).optional(), address: z.string().max(1000).optional() }),
    z.object({ name: z.string().min(1), kind: z.literal('quickAction'), text: z.string().max(256).optional(), payload: z.string().max(1000).optional() }),
  ],
  { error: 'kind must be text, image, document, video, location or quickAction' },
);
export type TemplateValue = z.infer<typeof templateValue>;

const refs = z.array(z.object({ refValue: z.string({ error: 'refValue is required' }).min(1) })).max(64).optional();

export const templateSchema = z.object({
  name: z.string({ error: 'template.name is required' }).min(1).max(512),
  language: z.string({ error: 'template.language is required' }).regex(/^[a-z]{2,3}(_[A-Za-z]{2,4})?$/, "language must be a code such as 'en' or 'en_US'"),
  values: z.array(templateValue).max(128).optional(),
  bindings: z
    .object({
      kind: z.literal('whatsApp', { error: "bindings.kind must be 'whatsApp'" }),
      header: refs,
      body: refs,
      footer: refs,
      buttons: z.array(z.object({ subType: z.enum(['quickReply', 'url'], { error: 'subType must be quickReply or url' }), refValue: z.string().min(1) })).max(10).optional(),
    })
    .optional(),
});
export type MessageTemplate = z.infer<typeof templateSchema>;

export const notificationContentSchema = z.discriminatedUnion(
  'kind',
  [
    z.object({ ...base, kind: z.literal('text'), content: z.string({ error: 'content is required' }).min(1, 'content must not be empty').max(4096, 'content must be at most 4096 characters') }),
    z.object({ ...base, kind: z.literal('image'), mediaUri, caption }),
    // The deprecated MediaNotificationContent: an image whose caption is `content`.
    z.object({ ...base, kind: z.literal('image_v0'), mediaUri, content: caption }),
    z.object({ ...base, kind: z.literal('document'), mediaUri, caption, fileName }),
    z.object({ ...base, kind: z.literal('video'), mediaUri, caption }),
    z.object({ ...base, kind: z.literal('audio'), mediaUri }),
    z.object({ ...base, kind: z.literal('template'), template: templateSchema }),
  ],
  { error: 'kind must be text, image, image_v0, document, video, audio or template' },
);
export type NotificationContent = z.infer<typeof notificationContentSchema>;
