import { ServiceError } from '../errors/service-error.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { ChatCaller } from './chat-context.js';

/**
 * Chat throttling as ACS documents it ("Service limits for Azure Communication Services", chat rate
 * limits): per user, per thread, or per user in a thread, over 10 seconds and (for some) a minute.
 * Past a limit the answer is ACS's 429 `TooManyRequests` "Rate limit exceeded.", with Retry-After.
 * Limits are per instance of the app (as the identity limits). `factor` scales every limit (the
 * setting CHAT_RATE_LIMIT_FACTOR); 0 turns chat throttling off.
 */
export type ChatOperation =
  | 'createThread'
  | 'deleteThread'
  | 'updateThread'
  | 'getThread'
  | 'changeParticipants'
  | 'listParticipants'
  | 'getMessage'
  | 'listMessages'
  | 'changeMessage'
  | 'sendReadReceipt'
  | 'listReadReceipts'
  | 'typing';

type Scope = 'user' | 'thread' | 'userInThread';

interface Limit {
  scope: Scope;
  per10s: number;
  perMinute?: number;
}

/** ACS's figures; "get / list threads" is one limit, as is "send / update / delete message". */
export const ACS_CHAT_RATE_LIMITS: Record<ChatOperation, Limit[]> = {
  createThread: [{ scope: 'user', per10s: 10 }],
  deleteThread: [{ scope: 'user', per10s: 10 }],
  updateThread: [{ scope: 'thread', per10s: 5 }],
  getThread: [{ scope: 'user', per10s: 50 }],
  changeParticipants: [{ scope: 'thread', per10s: 10, perMinute: 30 }],
  listParticipants: [
    { scope: 'userInThread', per10s: 10 },
    { scope: 'thread', per10s: 250 },
  ],
  getMessage: [
    { scope: 'userInThread', per10s: 50 },
    { scope: 'thread', per10s: 250 },
  ],
  listMessages: [
    { scope: 'userInThread', per10s: 50, perMinute: 200 },
    { scope: 'thread', per10s: 250, perMinute: 400 },
  ],
  changeMessage: [{ scope: 'thread', per10s: 10, perMinute: 30 }],
  sendReadReceipt: [{ scope: 'userInThread', per10s: 10, perMinute: 30 }],
  listReadReceipts: [
    { scope: 'userInThread', per10s: 5 },
    { scope: 'thread', per10s: 100 },
  ],
  typing: [
    { scope: 'userInThread', per10s: 5, perMinute: 15 },
    { scope: 'thread', per10s: 10, perMinute: 30 },
  ],
};

export class ChatThrottle {
  constructor(
    private readonly limiter: RateLimiter,
    private readonly factor: number,
  ) {}

  /** Counts one call of the operation against every limit it has; 429 past any of them. */
  take(operation: ChatOperation, caller: ChatCaller, threadId?: string): void {
    if (this.factor <= 0) return;
    for (const limit of ACS_CHAT_RATE_LIMITS[operation]) {
      const key = `${caller.resource.id}:chat.${operation}:${keyOf(limit.scope, caller.identityId, threadId)}`;
      const windows: [number, number][] = [[limit.per10s, 10_000], ...(limit.perMinute ? [[limit.perMinute, 60_000] as [number, number]] : [])];
      for (const [count, windowMs] of windows) {
        this.limiter.take(`${key}:${windowMs}`, Math.max(1, Math.floor(count * this.factor)), windowMs, () => new ServiceError('TooManyRequests', 'Rate limit exceeded.'));
      }
    }
  }
}

function keyOf(scope: Scope, identityId: string, threadId: string | undefined): string {
  if (scope === 'user') return identityId;
  if (scope === 'thread') return threadId ?? '';
  return `${threadId ?? ''}|${identityId}`;
}
