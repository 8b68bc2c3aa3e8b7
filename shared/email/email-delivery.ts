import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { stableId } from '../events/event-record.js';
import type { Outbox } from '../events/outbox.js';
import { operationLogRecord, type OperationLogs } from '../oplog/operation-log.js';
import { eventSource } from '../resources/resource-service.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { deleteContent, readContent } from './email-content-store.js';
import { deliveryReportEvent, recipientRefs } from './email-events.js';
import { EMAIL_DROPPED, EMAIL_REFUSED, finishedOperation, isTerminal, type EmailOperationRecord, type RecipientRecord, type RecipientState } from './email-operation.js';
import { EmailOperationStore } from './email-operation-store.js';
import type { EmailSettings } from './email-settings.js';
import { suppressedAmong, suppressionOp } from './email-suppressions.js';
import type { EmailWorkItem } from './email-work-item.js';
import { buildMime } from './mime-message.js';
import type { SmtpOutcome, SmtpRelays } from './smtp-relays.js';

/**
 * The delivery worker, run by the `emailDelivery` queue function for each work item. It takes the
 * operation with a lease (optimistic concurrency on the operation item, and `nextAttemptAt` moved to
 * the lease's end so the scheduler leaves it alone), then delivers to each pending recipient in its
 * own SMTP transaction and stores that recipient's outcome before the next one, so a run that dies
 * half-way is resumed (by the scheduler, once the lease has run out) without sending again to anyone
 * whose outcome was stored. The only window for a duplicate is between the relay's reply and that
 * write. A final outcome is reported (delivery report event, and for a hard bounce the suppression
 * entry, in one outbox change with an id derived from the recipient) and written to the operation
 * log. When every recipient has its outcome the content blob is deleted and the operation keeps no
 * address; otherwise the next attempt is due after an exponential backoff.
 */
export interface EmailDeliveryDeps {
  stores: StoreDirectory;
  resourceById(id: string): Promise<Resource | undefined>;
  outboxFor(geo: GeoStore): Outbox;
  oplogs: OperationLogs;
  relays: SmtpRelays;
  settings: EmailSettings;
  clock: Clock;
  logger: Logger;
  /** Tests: awaited after each recipient's outcome is stored (a crash is simulated by throwing). */
  afterRecipient?: (operation: EmailOperationRecord, index: number) => Promise<void>;
}

export type DeliveryRunOutcome = 'finished' | 'retryLater' | 'notDue' | 'busy' | 'leaseLost' | 'skipped';

/** How long a worker holds an operation; renewed with every write, so only a dead worker's lease runs out. */
export const EMAIL_LEASE_MS = 2 * 60_000;

export class EmailDelivery {
  /** This instance's lease owner (a new process is a new owner, and waits for the old lease to run out). */
  readonly #owner = randomUUID();
  readonly #inProgress = new Set<string>();

  constructor(private readonly deps: EmailDeliveryDeps) {}

  async process(item: EmailWorkItem): Promise<DeliveryRunOutcome> {
    if (this.#inProgress.has(item.operationId)) return 'busy';
    this.#inProgress.add(item.operationId);
    try {
      return await this.#process(item);
    } finally {
      this.#inProgress.delete(item.operationId);
    }
  }

  async #process(item: EmailWorkItem): Promise<DeliveryRunOutcome> {
    const resource = await this.deps.resourceById(item.resourceId);
    if (!resource || resource.state !== 'active' || resource.geographyKey !== item.geography) return 'skipped';
    const geo = this.deps.stores.forResource(resource);
    const store = new EmailOperationStore(geo);
    const found = await store.read(resource.id, item.operationId);
    const now = this.deps.clock.now();
    if (!found || isTerminal(found.status)) return 'skipped';
    const ours = found.lease?.owner === this.#owner;
    if (found.lease && !ours && Date.parse(found.lease.until) > now.getTime()) return 'busy';
    if (found.status !== 'NotStarted' && !ours && found.nextAttemptAt !== null && Date.parse(found.nextAttemptAt) > now.getTime()) return 'notDue';
    let op = await store.replace({ ...found, status: 'Running', attempts: found.attempts + 1, ...this.#lease(now) });
    if (!op) return 'busy';
    const recipients = op.recipients ?? [];
    const refs = recipientRefs(recipients);

    // Outcomes stored by a run that stopped before logging and reporting them: logged now (a record
    // written just before that stop is written again) and reported with this run's (same event ids).
    const toReport = recipients.flatMap((r, index) => (r.state !== 'pending' && !r.reported ? [index] : []));
    for (const index of toReport) await this.#log(geo, resource, op, recipients[index]!, recipients[index]!.state, 0);
    const pending = recipients.flatMap((r, index) => (r.state === 'pending' ? [index] : []));
    if (pending.length > 0) {
      const stored = op.contentBlob ? await readContent(geo, op.contentBlob) : undefined;
      const raw = stored ? await buildMime(stored, { messageId: op.internetMessageId!, date: new Date(op.createdAt) }) : undefined;
      const windowEnd = Date.parse(op.createdAt) + this.deps.settings.retryWindowHours * 3_600_000;
      // One query for the whole run: which of the pending addresses are on the suppression list now.
      const suppressed = await suppressedAmong(geo, resource.id, pending.map((index) => recipients[index]!.key), now);
      for (const index of pending) {
        const recipient = recipients[index]!;
        const started = Date.now();
        const at = this.deps.clock.now();
        let result: SmtpOutcome | undefined;
        let state: RecipientState;
        if (!raw) state = 'Failed'; // the content is gone (should not happen while recipients are pending)
        else if (suppressed.has(recipient.key)) state = 'Suppressed';
        else if (at.getTime() >= windowEnd) state = 'Failed';
        else {
          result = await this.deps.relays.send(resource.geographyKey, { from: op.senderAddress ?? op.sender!, to: recipient.address }, raw);
          state = result.kind === 'accepted' ? 'Delivered' : result.kind === 'bounced' ? 'Bounced' : result.kind === 'refused' ? 'Failed' : 'pending';
        }
        recipients[index] = {
          ...recipient,
          state,
          attempts: recipient.attempts + (result ? 1 : 0),
          ...(result?.code !== undefined ? { code: result.code } : {}),
          ...(result?.enhanced !== undefined ? { enhanced: result.enhanced } : {}),
          at: at.toISOString(),
        };
        op = await store.replace({ ...op, recipients, updatedAt: at.toISOString(), ...this.#lease(at) });
        if (!op) return 'leaseLost';
        await this.deps.afterRecipient?.(op, index);
        await this.#log(geo, resource, op, recipients[index]!, state === 'pending' ? 'Deferred' : state, Date.now() - started);
        if (state !== 'pending') toReport.push(index);
        if (result?.kind === 'deferred' && result.scope === 'relay') {
          // The relay could not be used (connection, TLS, authentication): the others wait for the next run.
          this.deps.logger.warn('email.relay_unavailable', { resourceId: resource.id, geography: resource.geographyKey, detail: result.detail });
          break;
        }
      }
    }
    // The run's reports go out together, in one outbox change, before the operation records them as reported.
    if (toReport.length > 0) await this.#report(geo, resource, op, recipients, toReport, refs);
    return this.#settle(geo, store, { ...op, recipients });
  }

  #lease(now: Date): Pick<EmailOperationRecord, 'lease' | 'nextAttemptAt'> {
    const until = new Date(now.getTime() + EMAIL_LEASE_MS).toISOString();
    return { lease: { owner: this.#owner, until }, nextAttemptAt: until };
  }

  /** Finishes the operation once every recipient has its outcome, or schedules the next attempt. */
  async #settle(geo: GeoStore, store: EmailOperationStore, op: EmailOperationRecord): Promise<DeliveryRunOutcome> {
    const now = this.deps.clock.now();
    const recipients = op.recipients ?? [];
    if (recipients.some((r) => r.state === 'pending')) {
      const backoff = Math.min(this.deps.settings.retryMaxSeconds, this.deps.settings.retryBaseSeconds * 2 ** (op.attempts - 1)) * 1000;
      const windowEnd = Date.parse(op.createdAt) + this.deps.settings.retryWindowHours * 3_600_000;
      const next = Math.max(now.getTime(), Math.min(now.getTime() + backoff, windowEnd));
      const saved = await store.replace({ ...op, lease: null, nextAttemptAt: new Date(next).toISOString(), updatedAt: now.toISOString() });
      return saved ? 'retryLater' : 'leaseLost';
    }
    // The content is deleted before the operation forgets it: a run that stops in between finishes here next time.
    if (op.contentBlob) await deleteContent(geo, op.contentBlob);
    const summary: EmailOperationRecord['summary'] = {};
    for (const r of recipients) summary[r.state as Exclude<RecipientState, 'pending'>] = (summary[r.state as Exclude<RecipientState, 'pending'>] ?? 0) + 1;
    const delivered = (summary.Delivered ?? 0) > 0;
    const dropped = (summary.Failed ?? 0) > 0;
    const refusedOnly = recipients.filter((r) => r.state === 'Failed').every((r) => r.code !== undefined && r.code >= 500);
    const finished = await store.replace(
      finishedOperation(op, {
        status: !delivered && dropped ? 'Failed' : 'Succeeded',
        error: !delivered && dropped ? (refusedOnly ? EMAIL_REFUSED : EMAIL_DROPPED) : null,
        now,
        retentionHours: this.deps.settings.operationRetentionHours,
        summary,
      }),
    );
    return finished ? 'finished' : 'leaseLost';
  }

  /**
   * The delivery reports of recipients that have their outcome (and, for each hard bounce, its
   * suppression entry), in one outbox change. Each report's id is derived from the recipient, so one
   * committed again after a crash is the same event to its receivers.
   */
  async #report(geo: GeoStore, resource: Resource, op: EmailOperationRecord, recipients: RecipientRecord[], indices: number[], refs: string[]): Promise<void> {
    const suppress = (recipient: RecipientRecord) => {
      const at = recipient.at ?? this.deps.clock.now().toISOString();
      return suppressionOp({
        resourceId: resource.id,
        address: recipient.key,
        code: recipient.code ?? 550,
        ...(recipient.enhanced ? { enhanced: recipient.enhanced } : {}),
        operationId: op.id,
        bouncedAt: at,
        expiresAt: new Date(Date.parse(at) + this.deps.settings.suppressionDays * 86_400_000).toISOString(),
      });
    };
    await this.deps.outboxFor(geo).commit({
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      changeId: stableId('email.report', resource.id, op.id, indices.join(',')),
      subjects: [op.sender!, ...indices.map((index) => recipients[index]!.key)],
      ops: indices.filter((index) => recipients[index]!.state === 'Bounced').map((index) => suppress(recipients[index]!)),
      events: indices.map((index) =>
        deliveryReportEvent({ resourceId: resource.id, operationId: op.id, sender: op.senderAddress ?? op.sender!, internetMessageId: op.internetMessageId!, recipient: recipients[index]!, recipientRef: refs[index]!, index, mode: resource.eventPayloads }),
      ),
    });
    // Stored with the operation's next write.
    for (const index of indices) recipients[index] = { ...recipients[index]!, reported: true };
  }

  /** The delivery log record (ACS's EmailStatusUpdate log): outcome, relay reply code, recipient and sender. */
  async #log(geo: GeoStore, resource: Resource, op: EmailOperationRecord, recipient: RecipientRecord, outcome: string, durationMs: number): Promise<void> {
    try {
      await this.deps.oplogs.write(
        geo,
        operationLogRecord({
          resourceId: resource.id,
          time: recipient.at ?? this.deps.clock.now().toISOString(),
          operation: 'DeliveryStatusUpdate',
          method: 'SMTP',
          status: recipient.code ?? 0,
          durationMs,
          correlationId: op.id,
          subjects: [recipient.key, op.sender!],
          deliveryStatus: outcome,
        }),
      );
    } catch (error) {
      this.deps.logger.warn('operation_log.write_failed', { resourceId: resource.id, function: 'emailDelivery', detail: error instanceof Error ? error.message : String(error) });
    }
  }
}
