import { createHmac, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { geographyByKey } from '../geography/geographies.js';
import type { RateLimiter } from '../http/rate-limiter.js';
import type { Resource } from '../resources/resource.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { deleteContent, writeContent } from './email-content-store.js';
import type { EmailDomains } from './email-domains.js';
import { addressKey, deliveryRecipients, type EmailMessageInput } from './email-message.js';
import type { EmailOperationRecord } from './email-operation.js';
import { EmailOperationStore } from './email-operation-store.js';
import type { EmailSettings } from './email-settings.js';
import { emailWorkItem, type EmailWorkItem } from './email-work-item.js';

/**
 * Accepting a send (`POST /emails:send`): ACS's rate limits, the sender check, repeatability by
 * `Operation-Id`, then the content blob and the operation, written in the resource's geography. The
 * delivery itself runs in the background (email-delivery.ts) from the returned work item.
 */
export interface EmailSendDeps {
  stores: StoreDirectory;
  domains: EmailDomains;
  clock: Clock;
  settings: EmailSettings;
  rateLimiter: RateLimiter;
  /** Keys the request hash (Operation-Id repeatability), so it cannot be compared across resources. */
  hashKey: string;
}

/** ACS's e-mail rate limits for custom domains (per subscription there, per resource and instance here). */
export const EMAIL_RATE_LIMITS = {
  send: [
    { perMs: 60_000, limit: 30 },
    { perMs: 3_600_000, limit: 100 },
  ],
  status: [
    { perMs: 60_000, limit: 60 },
    { perMs: 3_600_000, limit: 200 },
  ],
} as const;

/** A new operation that no worker has taken yet is enqueued again by the scheduler after this long. */
export const STRANDED_AFTER_MS = 60_000;

const OPERATION_ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export class EmailSender {
  constructor(private readonly deps: EmailSendDeps) {}

  /** Counts one call against ACS's limits (scaled by EMAIL_RATE_LIMIT_FACTOR; 0 turns them off): 429 with Retry-After past one. */
  throttle(resource: Resource, kind: keyof typeof EMAIL_RATE_LIMITS): void {
    const factor = this.deps.settings.rateLimitFactor;
    if (factor === 0) return;
    for (const { perMs, limit } of EMAIL_RATE_LIMITS[kind]) {
      this.deps.rateLimiter.take(`email:${kind}:${perMs}:${resource.id}`, Math.max(1, Math.round(limit * factor)), perMs, () => new ServiceError('TooManyRequests', 'Rate limit exceeded.'));
    }
  }

  async accept(resource: Resource, input: { body: Buffer; message: EmailMessageInput; operationId?: string | null }): Promise<{ record: EmailOperationRecord; workItem?: EmailWorkItem }> {
    const operationId = parseOperationId(input.operationId);
    if (!this.deps.settings.relays[resource.geographyKey]) {
      const geography = geographyByKey(resource.geographyKey);
      throw new ServiceError('ServiceUnavailable', `E-mail is not available in ${geography.name}: this deployment has no SMTP relay there.`);
    }
    const { displayName } = await this.deps.domains.resolveSender(resource, input.message.senderAddress);
    const geo = this.deps.stores.forResource(resource);
    const store = new EmailOperationStore(geo);
    const requestHash = createHmac('sha256', this.deps.hashKey).update(`email-send\u0000${resource.id}\u0000`).update(input.body).digest('base64url');
    const id = operationId ?? randomUUID();
    if (operationId) {
      const repeated = await this.#repeated(store, resource.id, id, requestHash);
      if (repeated) return { record: repeated };
    }
    const now = this.deps.clock.now();
    const contentBlob = await writeContent(geo, resource.id, id, { message: input.message, senderDisplayName: displayName });
    const sender = addressKey(input.message.senderAddress);
    const recipients = deliveryRecipients(input.message);
    const record: EmailOperationRecord = {
      id,
      resourceId: resource.id,
      kind: 'emailOperation',
      status: 'NotStarted',
      error: null,
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      requestHash,
      nextAttemptAt: new Date(now.getTime() + STRANDED_AFTER_MS).toISOString(),
      lease: null,
      attempts: 0,
      sender,
      senderAddress: input.message.senderAddress,
      internetMessageId: `<${id}@${sender.slice(sender.lastIndexOf('@') + 1)}>`,
      contentBlob,
      recipients: recipients.map((r) => ({ address: r.address, key: r.key, kind: r.kind, state: 'pending', attempts: 0 })),
      subjectKeys: [...new Set([sender, ...recipients.map((r) => r.key), ...(input.message.replyTo ?? []).map((r) => addressKey(r.address))])],
    };
    if (await store.create(record)) return { record, workItem: emailWorkItem(resource.geographyKey, resource.id, id) };
    // Another request with the same Operation-Id got there first: answer from its operation.
    await deleteContent(geo, contentBlob);
    const winner = await this.#repeated(store, resource.id, id, requestHash);
    if (!winner) throw new ServiceError('Conflict', `Operation ${id} changed while this request was being accepted; send it again.`, { target: 'Operation-Id' });
    return { record: winner };
  }

  /** The operation a repeated Operation-Id names, if it is the same request; 409 if it is another one. */
  async #repeated(store: EmailOperationStore, resourceId: string, id: string, requestHash: string): Promise<EmailOperationRecord | undefined> {
    const existing = await store.read(resourceId, id);
    if (!existing) return undefined;
    if (existing.expiresAt && Date.parse(existing.expiresAt) <= this.deps.clock.now().getTime()) {
      // Expired: the id may be used again (the purge would have deleted it anyway).
      await store.delete(resourceId, id);
      return undefined;
    }
    if (existing.requestHash !== requestHash) {
      throw new ServiceError('Conflict', `Operation-Id ${id} was already used for another e-mail request.`, { target: 'Operation-Id' });
    }
    return existing;
  }

  /** The status of an operation (404 once it has expired, whether or not the purge has deleted it). */
  async status(resource: Resource, id: string): Promise<EmailOperationRecord> {
    const record = OPERATION_ID.test(id) ? await new EmailOperationStore(this.deps.stores.forResource(resource)).read(resource.id, id.toLowerCase()) : undefined;
    if (!record || (record.expiresAt && Date.parse(record.expiresAt) <= this.deps.clock.now().getTime())) {
      throw new ServiceError('NotFound', `Operation '${id.slice(0, 64)}' was not found.`, { target: 'operationId' });
    }
    return record;
  }
}

function parseOperationId(value: string | null | undefined): string | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  if (!OPERATION_ID.test(value.trim())) throw new ServiceError('ValidationError', 'Operation-Id must be a UUID.', { target: 'Operation-Id' });
  return value.trim().toLowerCase();
}
