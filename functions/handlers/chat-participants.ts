import type { HttpHandler } from '@azure/functions';
import { chatBody, pageResponse, pageSize, skip, threadIdParam } from '../../shared/chat/chat-http.js';
import { addParticipantsSchema, removeParticipantSchema, sendReadReceiptSchema, typingNotificationSchema } from '../../shared/chat/chat-requests.js';
import { json, noContent } from '../../shared/http/responses.js';
import { userRoute } from '../../shared/http/user-request.js';
import { services } from '../../shared/services.js';

export const chatParticipants: HttpHandler = userRoute({
  GET: async ({ caller, request }) =>
    pageResponse(request, await services().chat.participants.list(caller, threadIdParam(request), { maxPageSize: pageSize(request), skip: skip(request) })),
});

export const chatParticipantsAdd: HttpHandler = userRoute({
  POST: async (scope) => {
    const input = chatBody(scope, addParticipantsSchema);
    return json(201, await services().chat.participants.add(scope.caller, threadIdParam(scope.request), input.participants));
  },
});

export const chatParticipantsRemove: HttpHandler = userRoute({
  POST: async (scope) => {
    const identityId = chatBody(scope, removeParticipantSchema);
    await services().chat.participants.remove(scope.caller, threadIdParam(scope.request), identityId);
    return noContent();
  },
});

export const chatReadReceipts: HttpHandler = userRoute({
  POST: async (scope) => {
    const { chatMessageId } = chatBody(scope, sendReadReceiptSchema);
    await services().chat.receipts.send(scope.caller, threadIdParam(scope.request), chatMessageId);
    return { status: 200 };
  },
  GET: async ({ caller, request }) =>
    pageResponse(request, await services().chat.receipts.list(caller, threadIdParam(request), { maxPageSize: pageSize(request), skip: skip(request) })),
});

export const chatTyping: HttpHandler = userRoute({
  POST: async (scope) => {
    chatBody(scope, typingNotificationSchema);
    await services().chat.receipts.typing(scope.caller, threadIdParam(scope.request));
    return { status: 200 };
  },
});
