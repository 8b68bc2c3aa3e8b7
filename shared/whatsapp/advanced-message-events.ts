import * as z from 'zod';
import { stableId, type EventDraft } from '../events/event-record.js';

/**
 * The ACS Advanced Messaging events (Event Grid, @azure/eventgrid 5.12 AcsMessageReceivedEventData
 * and AcsMessageDeliveryStatusUpdatedEventData), built from what WhatsApp's webhooks say.
 *
 * Message ids: ACS names a message by a GUID. Here it is derived from the channel and WhatsApp's
 * message id (`wamid...`), so the receipt of a send, the status events of that message and a reply's
 * `context.id` all carry the same GUID, and nothing has to be stored to map one to the other.
 * Event ids are derived the same way, so a redelivered webhook yields the same event id.
 */
export const ADVANCED_MESSAGE_EVENT = {
  received: 'Microsoft.Communication.AdvancedMessageReceived',
  deliveryStatusUpdated: 'Microsoft.Communication.AdvancedMessageDeliveryStatusUpdated',
} as const;

export const acsMessageId = (channelId: string, wamid: string) => stableId('whatsapp.message', channelId, wamid);

const channelError = z.object({ channelCode: z.string(), channelMessage: z.string() });

export const receivedDataSchema = z.object({
  from: z.string(),
  to: z.string(),
  receivedTimestamp: z.string(),
  channelType: z.literal('whatsapp'),
  messageId: z.string(),
  messageType: z.string(),
  content: z.string().optional(),
  media: z.object({ mimeType: z.string(), id: z.string(), fileName: z.string().optional(), caption: z.string().optional(), animated: z.boolean().optional() }).optional(),
  reaction: z.object({ messageId: z.string(), emoji: z.string().optional() }).optional(),
  context: z.object({ from: z.string().optional(), id: z.string().optional() }).optional(),
  button: z.object({ text: z.string().optional(), payload: z.string().optional() }).optional(),
  interactive: z
    .object({
      type: z.enum(['buttonReply', 'listReply', 'unknown']),
      buttonReply: z.object({ id: z.string().optional(), title: z.string().optional() }).optional(),
      listReply: z.object({ id: z.string().optional(), title: z.string().optional(), description: z.string().optional() }).optional(),
    })
    .optional(),
  error: channelError.optional(),
});
export type ReceivedData = z.infer<typeof receivedDataSchema>;

export const DELIVERY_STATUSES = ['sent', 'delivered', 'read', 'failed', 'warning', 'unknown'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

export const deliveryStatusDataSchema = z.object({
  messageId: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  channelType: z.literal('whatsapp'),
  from: z.string(),
  to: z.string(),
  receivedTimestamp: z.string(),
  error: channelError.optional(),
});
export type DeliveryStatusData = z.infer<typeof deliveryStatusDataSchema>;

/** `AdvancedMessageReceived`: `from` the user's WhatsApp id, `to` the channel registration id. */
export function receivedEvent(data: ReceivedData, eventKey: string): EventDraft {
  const parsed = receivedDataSchema.parse(data);
  return {
    id: stableId('whatsapp.received', eventKey),
    type: ADVANCED_MESSAGE_EVENT.received,
    subject: `advancedMessage/sender/${parsed.from}/recipient/${parsed.to}`,
    time: parsed.receivedTimestamp,
    data: parsed,
  };
}

/** `AdvancedMessageDeliveryStatusUpdated`: `from` the channel registration id, `to` the recipient. Subject status capitalised, as ACS's. */
export function deliveryStatusEvent(data: DeliveryStatusData, eventKey: string): EventDraft {
  const parsed = deliveryStatusDataSchema.parse(data);
  const status = `${parsed.status.charAt(0).toUpperCase()}${parsed.status.slice(1)}`;
  return {
    id: stableId('whatsapp.status', eventKey),
    type: ADVANCED_MESSAGE_EVENT.deliveryStatusUpdated,
    subject: `advancedMessage/${parsed.messageId}/status/${status}`,
    time: parsed.receivedTimestamp,
    data: parsed,
  };
}

/** WhatsApp's unix seconds as an ISO time (ACS's receivedTimestamp). */
export const isoFromUnixSeconds = (seconds: string | number | undefined, fallback: Date): string => {
  const value = Number(seconds);
  return Number.isFinite(value) && value > 0 ? new Date(value * 1000).toISOString() : fallback.toISOString();
};
