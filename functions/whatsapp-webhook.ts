import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/whatsapp-webhook.ts). */
const handlers = () => import('./handlers/whatsapp-webhook.js');

/**
 * WhatsApp's webhook for one channel (anonymous: WhatsApp authenticates with its signature). GET is
 * the verification handshake (`hub.mode=subscribe`, the channel's verify token, `hub.challenge`
 * echoed as text; else 403). POST is a notification: its `X-Hub-Signature-256` is checked against
 * the raw body with the channel's app secret (401 without detail, nothing changed, when it does not
 * match or the channel is unknown), then its messages and statuses become ACS events, each once.
 * 200 once done; any failure is a 5xx, and WhatsApp sends the notification again.
 */
app.http('whatsAppWebhook', {
  route: 'api/whatsapp/webhooks/{resourceName}/{channelId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'whatsAppWebhook'),
});
