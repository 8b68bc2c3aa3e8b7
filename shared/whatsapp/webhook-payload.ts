import * as z from 'zod';

/**
 * WhatsApp's webhook notification (`object: whatsapp_business_account`), as the Cloud API posts
 * it: `entry[]` per business account (`id` = its id), `changes[]` with `field: "messages"` and a
 * `value` holding the phone number (`metadata.phone_number_id`) and `messages[]` (what users sent)
 * and/or `statuses[]` (what became of what the business sent). Objects are loose: fields WhatsApp
 * adds later pass, unknown message types still become events (with their type and no content).
 */
const media = z.looseObject({ id: z.string(), mime_type: z.string().optional(), caption: z.string().optional(), filename: z.string().optional(), animated: z.boolean().optional() });

const whatsAppError = z.looseObject({
  code: z.number().optional(),
  title: z.string().optional(),
  message: z.string().optional(),
  error_data: z.looseObject({ details: z.string().optional() }).optional(),
});
export type WhatsAppError = z.infer<typeof whatsAppError>;

export const inboundMessageSchema = z.looseObject({
  from: z.string(),
  id: z.string().min(1),
  timestamp: z.string().optional(),
  type: z.string(),
  text: z.looseObject({ body: z.string() }).optional(),
  image: media.optional(),
  video: media.optional(),
  audio: media.optional(),
  document: media.optional(),
  sticker: media.optional(),
  reaction: z.looseObject({ message_id: z.string(), emoji: z.string().optional() }).optional(),
  button: z.looseObject({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  interactive: z
    .looseObject({
      type: z.string(),
      button_reply: z.looseObject({ id: z.string().optional(), title: z.string().optional() }).optional(),
      list_reply: z.looseObject({ id: z.string().optional(), title: z.string().optional(), description: z.string().optional() }).optional(),
    })
    .optional(),
  context: z.looseObject({ from: z.string().optional(), id: z.string().optional() }).optional(),
  errors: z.array(whatsAppError).optional(),
});
export type InboundMessage = z.infer<typeof inboundMessageSchema>;

export const statusSchema = z.looseObject({
  id: z.string().min(1),
  status: z.string(),
  timestamp: z.string().optional(),
  recipient_id: z.string(),
  errors: z.array(whatsAppError).optional(),
});
export type StatusUpdate = z.infer<typeof statusSchema>;

export const webhookPayloadSchema = z.looseObject({
  object: z.literal('whatsapp_business_account'),
  entry: z.array(
    z.looseObject({
      id: z.string(),
      changes: z.array(
        z.looseObject({
          field: z.string(),
          value: z.looseObject({
            messaging_product: z.string().optional(),
            metadata: z.looseObject({ phone_number_id: z.string(), display_phone_number: z.string().optional() }).optional(),
            messages: z.array(inboundMessageSchema).optional(),
            statuses: z.array(statusSchema).optional(),
          }),
        }),
      ),
    }),
  ),
});
export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/** The first error WhatsApp reports, as ACS's `error` (code as a string, its title or message). */
export const channelError = (errors: WhatsAppError[] | undefined) => {
  const first = errors?.[0];
  if (!first) return undefined;
  return { channelCode: String(first.code ?? 'unknown'), channelMessage: first.message ?? first.title ?? first.error_data?.details ?? 'WhatsApp reported an error.' };
};
