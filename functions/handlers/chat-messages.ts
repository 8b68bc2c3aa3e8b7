import type { HttpHandler } from '@azure/functions';
import { chatBody, messageIdParam, pageResponse, pageSize, startTime, syncState, threadIdParam } from '../../shared/chat/chat-http.js';
import { sendMessageSchema, updateMessageSchema } from '../../shared/chat/chat-requests.js';
import { ServiceError } from '../../shared/errors/service-error.js';
import { json, noContent } from '../../shared/http/responses.js';
import { userRoute } from '../../shared/http/user-request.js';
import { services } from '../../shared/services.js';

/** ACS Chat API 2025-03-15: messages (for @azure/communication-chat 1.6 ChatThreadClient). */

function sequenceCursor(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new ServiceError('ValidationError', "'syncState' is not a cursor this service issued.", { target: 'syncState' });
  return Number(value);
}

export const chatMessages: HttpHandler = userRoute({
  POST: async (scope) => {
    const { id, published } = await services().chat.messages.send(scope.caller, threadIdParam(scope.request), chatBody(scope, sendMessageSchema));
    // The answer waits for the events to be published, beside the post-write check and the log record.
    scope.operation.finish = () => published;
    return json(201, { id });
  },
  GET: async ({ caller, request }) => {
    const page = await services().chat.messages.list(caller, threadIdParam(request), {
      maxPageSize: pageSize(request),
      startTime: startTime(request),
      cursor: sequenceCursor(syncState(request)),
    });
    return pageResponse(request, page);
  },
});

export const chatMessage: HttpHandler = userRoute({
  GET: async ({ caller, request }) => json(200, await services().chat.messages.get(caller, threadIdParam(request), messageIdParam(request))),
  PATCH: async (scope) => {
    const input = chatBody(scope, updateMessageSchema);
    await services().chat.messages.update(scope.caller, threadIdParam(scope.request), messageIdParam(scope.request), input);
    return noContent();
  },
  DELETE: async ({ caller, request }) => {
    await services().chat.messages.delete(caller, threadIdParam(request), messageIdParam(request));
    return noContent();
  },
});
