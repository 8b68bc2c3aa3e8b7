import type { HttpHandler } from '@azure/functions';
import { readBody } from '../../shared/http/request-body.js';
import { json } from '../../shared/http/responses.js';
import { routeHandler } from '../../shared/http/route-handler.js';
import { services } from '../../shared/services.js';

export const whatsAppWebhook: HttpHandler = routeHandler(
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
);
