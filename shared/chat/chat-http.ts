import type { HttpRequest, HttpResponseInit } from '@azure/functions';
import { nextLink, type Page } from '../http/paging.js';
import { parseJsonBody } from '../http/request-body.js';
import { json } from '../http/responses.js';
import type { UserScope } from '../http/user-request.js';
import { parseWith } from '../http/validation.js';
import type * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';
import { CHAT_LIMITS } from './chat-limits.js';
import { isThreadId } from './chat-records.js';
import { pageSizeSchema, skipSchema, startTimeSchema } from './chat-requests.js';

/** Request parsing and response shaping shared by the chat trigger adapters. */

export function chatBody<S extends z.ZodType>(scope: UserScope, schema: S): z.infer<S> {
  return parseWith(schema, parseJsonBody(scope.request, scope.body));
}

export function threadIdParam(request: HttpRequest): string {
  const threadId = request.params.chatThreadId ?? '';
  if (!isThreadId(threadId)) {
    throw new ServiceError('ValidationError', `'${threadId.slice(0, 64)}' is not a chat thread id.`, { target: 'chatThreadId' });
  }
  return threadId;
}

/** Message ids are digits; anything else cannot name a message (404, as for an unknown id). */
export function messageIdParam(request: HttpRequest): string {
  const messageId = request.params.chatMessageId ?? '';
  if (!/^\d{1,24}$/.test(messageId)) throw new ServiceError('NotFound', `Chat message '${messageId.slice(0, 64)}' was not found.`, { target: 'chatMessageId' });
  return messageId;
}

function queryParam<S extends z.ZodType>(request: HttpRequest, name: string, schema: S): z.infer<S> | undefined {
  const raw = request.query.get(name);
  return raw === null ? undefined : parseWith(schema, raw, `query parameter '${name}'`);
}

export function pageSize(request: HttpRequest): number {
  return queryParam(request, 'maxPageSize', pageSizeSchema) ?? CHAT_LIMITS.defaultPageSize;
}

export function skip(request: HttpRequest): number {
  return queryParam(request, 'skip', skipSchema) ?? 0;
}

export function startTime(request: HttpRequest): string | undefined {
  return queryParam(request, 'startTime', startTimeSchema);
}

/** The opaque cursor of a nextLink (`syncState`). */
export function syncState(request: HttpRequest): string | undefined {
  return request.query.get('syncState') ?? undefined;
}

export function pageResponse(request: HttpRequest, page: Page<unknown>): HttpResponseInit {
  return json(200, { value: page.value, ...(page.next ? { nextLink: nextLink(request.url, page.next) } : {}) });
}
