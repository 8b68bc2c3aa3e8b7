import type { HttpHandler } from '@azure/functions';
import { chatBody, pageResponse, pageSize, startTime, syncState, threadIdParam } from '../../shared/chat/chat-http.js';
import { createThreadSchema, updateThreadSchema } from '../../shared/chat/chat-requests.js';
import { json, noContent } from '../../shared/http/responses.js';
import { userRoute } from '../../shared/http/user-request.js';
import { services } from '../../shared/services.js';

export const chatThreads: HttpHandler = userRoute({
  POST: async (scope) => {
    const input = chatBody(scope, createThreadSchema);
    const repeatabilityId = scope.request.headers.get('repeatability-request-id') ?? undefined;
    return json(201, await services().chat.threads.create(scope.caller, input, repeatabilityId));
  },
  GET: async ({ caller, request }) => {
    const cursor = syncState(request);
    const page = await services().chat.threads.list(caller, { maxPageSize: pageSize(request), startTime: startTime(request), cursor });
    return pageResponse(request, page);
  },
});

export const chatThread: HttpHandler = userRoute({
  GET: async ({ caller, request }) => json(200, await services().chat.threads.get(caller, threadIdParam(request))),
  PATCH: async (scope) => {
    await services().chat.threads.update(scope.caller, threadIdParam(scope.request), chatBody(scope, updateThreadSchema));
    return noContent();
  },
  DELETE: async ({ caller, request }) => {
    await services().chat.threads.delete(caller, threadIdParam(request));
    return noContent();
  },
});
