import { app } from '@azure/functions';
import { chatBody, pageResponse, pageSize, skip, threadIdParam } from '../shared/chat/chat-http.js';
import { addParticipantsSchema, removeParticipantSchema, sendReadReceiptSchema, typingNotificationSchema } from '../shared/chat/chat-requests.js';
import { json, noContent } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { userRoute } from '../shared/http/user-request.js';
import { services } from '../shared/services.js';

/** ACS Chat API 2025-03-15: participants, read receipts and typing notifications of a thread. */

app.http('chatParticipants', {
  route: 'chat/threads/{chatThreadId}/participants',
  methods: [...ALL_METHODS],
  handler: userRoute({
    GET: async ({ caller, request }) =>
      pageResponse(request, await services().chat.participants.list(caller, threadIdParam(request), { maxPageSize: pageSize(request), skip: skip(request) })),
  }),
});

app.http('chatParticipantsAdd', {
  route: 'chat/threads/{chatThreadId}/participants/:add',
  methods: [...ALL_METHODS],
  handler: userRoute({
    POST: async (scope) => {
      const input = chatBody(scope, addParticipantsSchema);
      return json(201, await services().chat.participants.add(scope.caller, threadIdParam(scope.request), input.participants));
    },
  }),
});

app.http('chatParticipantsRemove', {
  route: 'chat/threads/{chatThreadId}/participants/:remove',
  methods: [...ALL_METHODS],
  handler: userRoute({
    POST: async (scope) => {
      const identityId = chatBody(scope, removeParticipantSchema);
      await services().chat.participants.remove(scope.caller, threadIdParam(scope.request), identityId);
      return noContent();
    },
  }),
});

app.http('chatReadReceipts', {
  route: 'chat/threads/{chatThreadId}/readReceipts',
  methods: [...ALL_METHODS],
  handler: userRoute({
    POST: async (scope) => {
      const { chatMessageId } = chatBody(scope, sendReadReceiptSchema);
      await services().chat.receipts.send(scope.caller, threadIdParam(scope.request), chatMessageId);
      return { status: 200 };
    },
    GET: async ({ caller, request }) =>
      pageResponse(request, await services().chat.receipts.list(caller, threadIdParam(request), { maxPageSize: pageSize(request), skip: skip(request) })),
  }),
});

app.http('chatTyping', {
  route: 'chat/threads/{chatThreadId}/typing',
  methods: [...ALL_METHODS],
  handler: userRoute({
    POST: async (scope) => {
      chatBody(scope, typingNotificationSchema);
      await services().chat.receipts.typing(scope.caller, threadIdParam(scope.request));
      return { status: 200 };
    },
  }),
});
