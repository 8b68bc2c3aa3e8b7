import type { Clock } from '../clock.js';
import { stableId, type EventDraft } from '../events/event-record.js';
import type { Outbox } from '../events/outbox.js';
import { operationLogRecord, type OperationLogs } from '../oplog/operation-log.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { Resource } from '../resources/resource.js';
import { eventSource } from '../resources/resource-service.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { deliveryStatusEvent, receivedEvent } from './advanced-message-events.js';
import type { ChannelRecord } from './channel.js';
import { receivedData, statusData } from './inbound-mapping.js';
import { seenRecord, upsertSeenOp, type MessageRecords } from './message-records.js';
import type { WebhookPayload } from './webhook-payload.js';

/**
 * A verified webhook notification of a channel, turned into ACS events: each user message into
 * `AdvancedMessageReceived`, each status into `AdvancedMessageDeliveryStatusUpdated`, through the
 * resource's outbox in its geography, each exactly once. WhatsApp delivers at least once (and again
 * after any answer but 200), so each item is remembered by a hash of its ids (message-records.ts) in
 * the same outbox change that emits its event, under a change id derived from it: a redelivery finds
 * the mark and is skipped; two deliveries at once commit the same change, which the outbox takes
 * once. The text and media ids are only in the event (an outbox entry keeps no content once
 * published). Each item is logged with the user's number (`MessageReceived`,
 * `MessageDeliveryStatusUpdated`, method `WEBHOOK`). Items of another business account or phone
 * number than the channel's are ignored.
 */
export interface WebhookOutcome {
  events: number;
  duplicates: number;
  ignored: number;
}

export class WebhookInbound {
  constructor(
    private readonly deps: {
      stores: StoreDirectory;
      records: MessageRecords;
      outboxFor: (geo: GeoStore) => Outbox;
      oplogs: OperationLogs;
      clock: Clock;
      logger: Logger;
      dedupeHours: number;
    },
  ) {}

  async handle(resource: Resource, channel: ChannelRecord, payload: WebhookPayload): Promise<WebhookOutcome> {
    const geo = this.deps.stores.forResource(resource);
    const outcome: WebhookOutcome = { events: 0, duplicates: 0, ignored: 0 };
    for (const entry of payload.entry) {
      for (const change of entry.changes) {
        const value = change.value;
        const items = (value.messages?.length ?? 0) + (value.statuses?.length ?? 0);
        if (entry.id !== channel.businessAccountId || change.field !== 'messages' || value.metadata?.phone_number_id !== channel.phoneNumberId) {
          outcome.ignored += items;
          continue;
        }
        for (const message of value.messages ?? []) {
          const now = this.deps.clock.now();
          const key = `message:${message.id}`;
          const data = receivedData(channel.id, message, now);
          await this.#emit(geo, resource, channel, key, receivedEvent(data, `${channel.id}:${key}`), 'MessageReceived', message.from, data.messageId, outcome);
        }
        for (const status of value.statuses ?? []) {
          const now = this.deps.clock.now();
          const key = `status:${status.id}:${status.status.toLowerCase()}`;
          const data = statusData(channel.id, status, now);
          await this.#emit(geo, resource, channel, key, deliveryStatusEvent(data, `${channel.id}:${key}`), 'MessageDeliveryStatusUpdated', status.recipient_id, data.messageId, outcome);
        }
      }
    }
    if (outcome.ignored > 0) this.deps.logger.warn('whatsapp.webhook_ignored', { resourceId: resource.id, count: outcome.ignored, detail: "items of another business account or phone number than the channel's" });
    return outcome;
  }

  async #emit(geo: GeoStore, resource: Resource, channel: ChannelRecord, key: string, event: EventDraft, operation: string, user: string, messageId: string, outcome: WebhookOutcome): Promise<void> {
    const started = Date.now();
    const now = this.deps.clock.now();
    if (await this.deps.records.seen(geo, resource.id, channel.id, key, now)) {
      outcome.duplicates += 1;
      return;
    }
    const subjects = /^\d{7,15}$/.test(user) ? [phoneRawId(`+${user}`)] : [];
    await this.deps.outboxFor(geo).commit({
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: [upsertSeenOp(seenRecord(resource.id, channel.id, key, now, this.deps.dedupeHours))],
      events: [event],
      subjects,
      changeId: stableId('whatsapp.webhook', resource.id, channel.id, key),
    });
    outcome.events += 1;
    await this.deps.oplogs
      .write(geo, operationLogRecord({ resourceId: resource.id, time: now.toISOString(), operation, method: 'WEBHOOK', status: 200, durationMs: Date.now() - started, correlationId: messageId, subjects }))
      .catch((error: unknown) => this.deps.logger.warn('operation_log.write_failed', { resourceId: resource.id, errorName: error instanceof Error ? error.name : typeof error }));
  }
}
