import type { HttpHandler } from '@azure/functions';
import * as z from 'zod';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { sendTestEvents } from '../../shared/events/test-events.js';
import { services } from '../../shared/services.js';

const bodySchema = z.strictObject({
  count: z.number().int().min(1).max(100).default(1),
  label: z.string().max(100).optional(),
});

export const eventsSendTest: HttpHandler = hmacResourceRoute({
  POST: async ({ request, resource, body }) => {
    const input = parseWith(bodySchema, parseJsonBody(request, body) ?? {});
    const svc = services();
    const events = await sendTestEvents(
      { outbox: svc.outboxFor(svc.stores.forResource(resource)) },
      { resource, count: input.count, label: input.label },
    );
    return json(202, { events: events.map((e) => ({ id: e.id, type: e.type })) });
  },
});
