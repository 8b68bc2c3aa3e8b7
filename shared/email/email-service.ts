import type { Clock } from '../clock.js';
import type { Outbox } from '../events/outbox.js';
import { RateLimiter } from '../http/rate-limiter.js';
import type { OperationLogs } from '../oplog/operation-log.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { deleteContent } from './email-content-store.js';
import { EmailDelivery, type EmailDeliveryDeps } from './email-delivery.js';
import { EMAIL_CANCELED, finishedOperation, isTerminal } from './email-operation.js';
import { EmailOperationStore } from './email-operation-store.js';
import { EmailDomains } from './email-domains.js';
import { dueEmailWork } from './email-scheduler.js';
import { EmailSender } from './email-send.js';
import type { EmailSettings } from './email-settings.js';
import type { EmailWorkItem } from './email-work-item.js';
import { SmtpRelays } from './smtp-relays.js';

/**
 * E-mail (shared/email): domains and sender usernames, accepting sends, delivering them to each
 * geography's SMTP relay in the background, and the scheduler that keeps delivery going across
 * retries and restarts. Nothing here opens a connection until the first delivery.
 */
export interface EmailServiceDeps {
  stores: StoreDirectory;
  resourceById(id: string): Promise<Resource | undefined>;
  outboxFor(geo: GeoStore): Outbox;
  oplogs: OperationLogs;
  settings: EmailSettings;
  clock: Clock;
  logger: Logger;
  hashKey: string;
  /** The local stack's relay certificate, in code only (shared/email/smtp-relays.ts). */
  trustedCertificates?: string;
  afterRecipient?: EmailDeliveryDeps['afterRecipient'];
}

/** Work items the scheduler enqueues per geography and run. */
const SCHEDULE_BATCH = 500;

export class EmailService {
  readonly domains: EmailDomains;
  readonly sender: EmailSender;
  readonly delivery: EmailDelivery;
  readonly relays: SmtpRelays;

  constructor(private readonly deps: EmailServiceDeps) {
    this.domains = new EmailDomains({ stores: deps.stores, clock: deps.clock });
    this.relays = new SmtpRelays({ relays: deps.settings.relays, connections: deps.settings.relayConnections, ...(deps.trustedCertificates ? { trustedCertificates: deps.trustedCertificates } : {}) });
    this.sender = new EmailSender({
      stores: deps.stores,
      domains: this.domains,
      clock: deps.clock,
      settings: deps.settings,
      rateLimiter: new RateLimiter(() => deps.clock.now().getTime()),
      hashKey: deps.hashKey,
    });
    this.delivery = new EmailDelivery({
      stores: deps.stores,
      resourceById: deps.resourceById,
      outboxFor: deps.outboxFor,
      oplogs: deps.oplogs,
      relays: this.relays,
      settings: deps.settings,
      clock: deps.clock,
      logger: deps.logger,
      ...(deps.afterRecipient ? { afterRecipient: deps.afterRecipient } : {}),
    });
  }

  /** The work items of every operation that is due now (the scheduler timer's output). */
  dueWork(): Promise<EmailWorkItem[]> {
    return dueEmailWork({ stores: this.deps.stores, logger: this.deps.logger }, this.deps.clock.now(), SCHEDULE_BATCH);
  }

  /**
   * Cancels a message that is still being delivered (a data subject request erasing an address it
   * names): its content is deleted and the operation ends `Canceled` without any address. No delivery
   * report is sent. A worker that writes in between makes it read again and retry.
   */
  async cancel(geo: GeoStore, resourceId: string, operationId: string): Promise<void> {
    const store = new EmailOperationStore(geo);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const op = await store.read(resourceId, operationId);
      if (!op || isTerminal(op.status)) return;
      if (op.contentBlob) await deleteContent(geo, op.contentBlob);
      const now = this.deps.clock.now();
      const canceled = await store.replace(finishedOperation(op, { status: 'Canceled', error: EMAIL_CANCELED, now, retentionHours: this.deps.settings.operationRetentionHours }));
      if (canceled) return;
    }
    throw new Error(`Operation ${operationId} kept changing while it was being canceled`);
  }

  dispose(): void {
    this.relays.close();
  }
}
