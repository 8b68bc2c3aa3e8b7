import type { IdentityDeletionHook } from '../identity/identity-service.js';
import { ChatContext, type ChatDeps } from './chat-context.js';
import { chatIdentityDeletionHook } from './chat-identity-eraser.js';
import { ChatMessageService } from './chat-message-service.js';
import { ChatParticipants } from './chat-participants.js';
import { ChatReadReceipts } from './chat-read-receipts.js';
import { ChatThreadPurger } from './chat-thread-purger.js';
import { ChatThreadService } from './chat-thread-service.js';

/** The chat module (Chat API 2025-03-15): threads, messages, participants, read receipts. */
export class ChatService {
  readonly threads: ChatThreadService;
  readonly messages: ChatMessageService;
  readonly participants: ChatParticipants;
  readonly receipts: ChatReadReceipts;
  readonly identityDeletionHook: IdentityDeletionHook;
  readonly purger: ChatThreadPurger;

  constructor(deps: ChatDeps) {
    const ctx = new ChatContext(deps);
    this.purger = new ChatThreadPurger(ctx);
    this.participants = new ChatParticipants(ctx);
    this.threads = new ChatThreadService(ctx, this.participants, this.purger);
    this.messages = new ChatMessageService(ctx);
    this.receipts = new ChatReadReceipts(ctx);
    this.identityDeletionHook = chatIdentityDeletionHook(ctx);
  }
}
