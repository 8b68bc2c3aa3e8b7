import { acsMessageId, DELIVERY_STATUSES, isoFromUnixSeconds, type DeliveryStatus, type DeliveryStatusData, type ReceivedData } from './advanced-message-events.js';
import { channelError, type InboundMessage, type StatusUpdate } from './webhook-payload.js';

/**
 * WhatsApp's webhook items as the data of ACS's events. A message: its type, its text (`content`),
 * its media (`mimeType` and WhatsApp's media `id`, which `GET /messages/streams/{id}` downloads),
 * reaction, quick-reply button or interactive reply, and the message it answers (`context`, with
 * the ACS message id of our own message). A status: `sent`, `delivered`, `read`, `failed` (with
 * WhatsApp's error), anything else `unknown`.
 */
const MEDIA_TYPES = ['image', 'video', 'audio', 'document', 'sticker'] as const;

export function receivedData(channelId: string, message: InboundMessage, now: Date): ReceivedData {
  const data: ReceivedData = {
    from: message.from,
    to: channelId,
    receivedTimestamp: isoFromUnixSeconds(message.timestamp, now),
    channelType: 'whatsapp',
    messageId: acsMessageId(channelId, message.id),
    messageType: message.type,
  };
  if (message.text) data.content = message.text.body;
  const mediaType = MEDIA_TYPES.find((type) => type === message.type);
  const media = mediaType ? message[mediaType] : undefined;
  if (media) {
    data.media = {
      mimeType: media.mime_type ?? 'application/octet-stream',
      id: media.id,
      ...(media.filename !== undefined ? { fileName: media.filename } : {}),
      ...(media.caption !== undefined ? { caption: media.caption } : {}),
      ...(media.animated !== undefined ? { animated: media.animated } : {}),
    };
  }
  if (message.reaction) data.reaction = { messageId: acsMessageId(channelId, message.reaction.message_id), ...(message.reaction.emoji !== undefined ? { emoji: message.reaction.emoji } : {}) };
  if (message.button) data.button = { ...(message.button.text !== undefined ? { text: message.button.text } : {}), ...(message.button.payload !== undefined ? { payload: message.button.payload } : {}) };
  if (message.interactive) {
    const { type, button_reply: button, list_reply: list } = message.interactive;
    data.interactive = {
      type: type === 'button_reply' ? 'buttonReply' : type === 'list_reply' ? 'listReply' : 'unknown',
      ...(button ? { buttonReply: { ...(button.id !== undefined ? { id: button.id } : {}), ...(button.title !== undefined ? { title: button.title } : {}) } } : {}),
      ...(list
        ? { listReply: { ...(list.id !== undefined ? { id: list.id } : {}), ...(list.title !== undefined ? { title: list.title } : {}), ...(list.description !== undefined ? { description: list.description } : {}) } }
        : {}),
    };
  }
  if (message.context) {
    data.context = { ...(message.context.from !== undefined ? { from: message.context.from } : {}), ...(message.context.id !== undefined ? { id: acsMessageId(channelId, message.context.id) } : {}) };
  }
  const error = channelError(message.errors);
  if (error) data.error = error;
  return data;
}

export function statusData(channelId: string, status: StatusUpdate, now: Date): DeliveryStatusData {
  const value = status.status.toLowerCase();
  const known = DELIVERY_STATUSES.find((s) => s === value);
  const error = channelError(status.errors);
  return {
    messageId: acsMessageId(channelId, status.id),
    status: (known ?? 'unknown') as DeliveryStatus,
    channelType: 'whatsapp',
    from: channelId,
    to: status.recipient_id,
    receivedTimestamp: isoFromUnixSeconds(status.timestamp, now),
    ...(error ? { error } : {}),
  };
}
