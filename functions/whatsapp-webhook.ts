import { app } from '@azure/functions';
import { readBody } from '../shared/http/request-body.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS, routeHandler } from '../shared/http/route-handler.js';
import { services } from '../shared/services.js';

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
  handler: routeHandler(
    {
      GET: async ({ request }) => {
        const challenge = await services().whatsApp.handshake(request.params.resourceName ?? '', request.params.channelId ?? '', request.query);
        return { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }, body: challenge };
      },
      POST: async ({ request }) => {
        const raw = await readBody(request, services().settings.maxRequestBodyBytes);
        const outcome = await services().whatsApp.receive(request.params.resourceName ?? '', request.params.channelId ?? '', raw, request.headers.get('x-hub-signature-256'));
        return json(200, outcome);
      },
    },
    services,
  ),
});
