import { ServiceError } from '../errors/service-error.js';
import type { Page } from '../http/paging.js';
import { ChatContext, type ChatCaller } from './chat-context.js';
import { isVisibleTo } from './chat-message-service.js';
import { receiptItemId, receiptView, type ReceiptRecord } from './chat-records.js';

/**
 * Read receipts (one per participant: the latest message they read) and typing notifications. ACS
 * delivers both only over its real-time channel, not Event Grid, so neither emits events here; a
 * typing notification is checked (caller, thread, body) and not stored.
 */
export class ChatReadReceipts {
  constructor(private readonly ctx: ChatContext) {}

  async send(caller: ChatCaller, threadId: string, chatMessageId: string): Promise<void> {
    this.ctx.limit('sendReadReceipt', caller, threadId);
    const participant = await this.ctx.participation(caller, threadId, { current: true });
    const store = this.ctx.store(caller.resource);
    const [message, current] = await Promise.all([store.message(threadId, chatMessageId), store.receipt(threadId, caller.identityId)]);
    if (!message || !isVisibleTo(participant, message)) {
      throw new ServiceError('NotFound', `Chat message '${chatMessageId}' was not found.`, { target: 'chatMessageId' });
    }
    if (current && current.messageSequence >= message.sequence) return;
    const receipt: ReceiptRecord = {
      id: receiptItemId(caller.identityId),
      threadId,
      resourceId: caller.resource.id,
      kind: 'receipt',
      identityId: caller.identityId,
      chatMessageId,
      messageSequence: message.sequence,
      readOn: this.ctx.now(),
    };
    // One item, no events: a plain upsert is atomic on its own.
    await (await store.threads()).items.upsert(receipt);
  }

  async list(caller: ChatCaller, threadId: string, page: { maxPageSize: number; skip: number }): Promise<Page<Record<string, unknown>>> {
    this.ctx.limit('listReadReceipts', caller, threadId);
    await this.ctx.participation(caller, threadId, { current: true });
    const all = await this.ctx.store(caller.resource).receipts(threadId);
    const end = page.skip + page.maxPageSize;
    return { value: all.slice(page.skip, end).map(receiptView), next: end < all.length ? { skip: String(end) } : undefined };
  }

  async typing(caller: ChatCaller, threadId: string): Promise<void> {
    this.ctx.limit('typing', caller, threadId);
    await this.ctx.participation(caller, threadId, { current: true });
  }
}
