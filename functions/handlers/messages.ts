import type { HttpHandler } from '@azure/functions';
import { type HttpResponseInit } from '@azure/functions';
import { nextLink } from '../../shared/http/paging.js';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { phoneRawId } from '../../shared/oplog/subject-ids.js';
import { services } from '../../shared/services.js';
import { parseRepeatability } from '../../shared/whatsapp/messages-repeatability.js';
import { notificationContentSchema, whatsAppUserId } from '../../shared/whatsapp/notification-content.js';
import { templatesQuerySchema } from '../../shared/whatsapp/templates.js';

/**
 * The ACS Messages API 2024-08-30 (Advanced Messaging for WhatsApp), resource key (HMAC): send
 * notifications, download a user's media, list a channel's templates. As ACS answers: errors carry
 * `x-ms-error-code`, and a caller's `x-ms-client-request-id` comes back. Each route is served at its
 * path (`{endpoint}messages/...`) and, for @azure-rest/communication-messages, with its path in the
 * endpoint's `resource` parameter (shared/http/query-routes.ts).
 */
function acsHeaders(handler: HttpHandler): HttpHandler {
  return async (request, context) => {
    const response = (await handler(request, context)) as HttpResponseInit;
    const headers = new Headers(response.headers as Record<string, string>);
    const code = (response.jsonBody as { error?: { code?: unknown } } | undefined)?.error?.code;
    if ((response.status ?? 200) >= 400 && typeof code === 'string') headers.set('x-ms-error-code', code);
    const clientRequestId = request.headers.get('x-ms-client-request-id');
    if (clientRequestId && /^[\x21-\x7e]{1,256}$/.test(clientRequestId)) headers.set('x-ms-client-request-id', clientRequestId);
    return { ...response, headers: Object.fromEntries(headers) };
  };
}

export const messagesNotificationsSend: HttpHandler = acsHeaders(
  hmacResourceRoute(
    {
      POST: async ({ request, resource, body, operation }) => {
        const content = parseWith(notificationContentSchema, parseJsonBody(request, body) ?? {});
        for (const to of content.to) operation.subjects.add(phoneRawId(`+${whatsAppUserId(to)!}`));
        const repeatability = parseRepeatability(request.headers, services().clock.now());
        const answer = await services().whatsApp.send(resource, { content, rawBody: body, ...(repeatability ? { repeatability } : {}) });
        return json(202, { receipts: answer.receipts }, answer.repeatabilityResult ? { 'repeatability-result': answer.repeatabilityResult } : {});
      },
    },
    { requireApiVersion: true },
  ),
);

export const messagesStream: HttpHandler = acsHeaders(
  hmacResourceRoute(
    {
      // Any Accept is served (the SDK sends application/json): the answer is the media, with its own type.
      GET: async ({ request, resource }) => {
        const media = await services().whatsApp.media(resource, request.params.id ?? '');
        return {
          status: 200,
          headers: { 'content-type': media.contentType, ...(media.contentLength !== undefined ? { 'content-length': String(media.contentLength) } : {}) },
          body: media.body,
        };
      },
    },
    { requireApiVersion: true },
  ),
);

export const messagesTemplates: HttpHandler = acsHeaders(
  hmacResourceRoute(
    {
      GET: async ({ request, resource }) => {
        const query = parseWith(templatesQuerySchema, { maxpagesize: request.query.get('maxpagesize') ?? undefined, skipToken: request.query.get('skipToken') ?? undefined }, 'query');
        const page = await services().whatsApp.templates(resource, request.params.channelId ?? '', query);
        return json(200, { value: page.value, ...(page.after ? { nextLink: nextLink(request.url, { skipToken: page.after, maxpagesize: String(query.maxpagesize) }) } : {}) });
      },
    },
    { requireApiVersion: true },
  ),
);

