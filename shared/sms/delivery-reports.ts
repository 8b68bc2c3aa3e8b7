import type { Clock } from '../clock.js';
import { stableId } from '../events/event-record.js';
import type { Outbox } from '../events/outbox.js';
import { operationLogRecord, type OperationLogs } from '../oplog/operation-log.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { Resource } from '../resources/resource.js';
import { eventSource } from '../resources/resource-service.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { Logger } from '../telemetry/logger.js';
import type { DeliveryReceipt } from './delivery-receipt.js';
import { deliveryReportEvent } from './sms-events.js';
import { deleteOp, deliveryId, type DeliveryRecord, type SmsRecords } from './sms-records.js';
import type { SmppLink } from './smpp-link.js';

/**
 * Turns carrier receipts into ACS delivery reports. Each segment's receipt is noted on its delivery
 * record; once every segment of the message has its receipt, one outbox change deletes the records
 * and emits `Microsoft.Communication.SMSDeliveryReportReceived` (Delivered when every segment was
 * delivered, else Failed with the carrier's state and error), with a change id derived from the
 * message, so a receipt delivered twice sends no second report. A receipt whose record is not
 * there yet (it races the sender's write) is answered "try again later", so the carrier redelivers.
 */
const ESME_RX_T_APPN = 0x64;
const RECORD_WAITS_MS = [50, 150, 300];

export class DeliveryReports {
  constructor(private readonly deps: { records: SmsRecords; outboxFor: (geo: GeoStore) => Outbox; oplogs: OperationLogs; clock: Clock; logger: Logger }) {}

  async receipt(geo: GeoStore, resource: Resource, link: SmppLink, receipt: DeliveryReceipt): Promise<number> {
    const started = Date.now();
    const id = deliveryId(link.name, receipt.messageId);
    let record = await this.deps.records.read<DeliveryRecord>(geo, resource.id, id);
    for (const wait of RECORD_WAITS_MS) {
      if (record) break;
      await new Promise((resolve) => setTimeout(resolve, wait));
      record = await this.deps.records.read<DeliveryRecord>(geo, resource.id, id);
    }
    if (!record || record.kind !== 'smsDelivery') return ESME_RX_T_APPN;
    const noted: DeliveryRecord = { ...record, state: receipt.state, error: receipt.error, ...(receipt.doneAt ? { doneAt: receipt.doneAt } : {}) };
    let segments = [noted];
    if (record.segments > 1) {
      const container = await this.deps.records.container(geo);
      try {
        await container.item(id, resource.id).patch([
          { op: 'set', path: '/state', value: noted.state },
          { op: 'set', path: '/error', value: noted.error },
          { op: 'set', path: '/doneAt', value: noted.doneAt ?? null },
        ]);
      } catch (error) {
        // Gone: a receipt of the last segment completed the message meanwhile.
        if ((error as { code?: number }).code === 404) return 0;
        throw error;
      }
      segments = (await this.deps.records.segmentsOf(geo, resource.id, record.messageId)).map((s) => (s.id === id ? noted : s));
      if (segments.length < record.segments || segments.some((s) => !s.state)) return 0;
    }
    await this.#report(geo, resource, segments, started);
    return 0;
  }

  async #report(geo: GeoStore, resource: Resource, segments: DeliveryRecord[], started: number): Promise<void> {
    const first = segments[0]!;
    const now = this.deps.clock.now().toISOString();
    const failed = segments.filter((s) => s.state !== 'DELIVRD');
    const details =
      failed.length === 0
        ? 'No error.'
        : `The carrier reported ${failed[0]!.state} (error ${failed[0]!.error ?? '000'})${segments.length > 1 ? ` for ${failed.length} of ${segments.length} segments` : ''}.`;
    const attemptAt = segments.map((s) => s.doneAt ?? now).sort().at(-1)!;
    const subjects = [phoneRawId(first.phoneNumber), phoneRawId(first.recipient)];
    await this.deps.outboxFor(geo).commit({
      changeId: stableId('smsDeliveryReport', resource.id, first.messageId),
      resourceId: resource.id,
      eventSource: eventSource(resource.id),
      payloadMode: resource.eventPayloads,
      ops: segments.map((s) => deleteOp(resource.id, s.id)),
      events: [
        deliveryReportEvent({
          messageId: first.messageId,
          from: first.phoneNumber,
          to: first.recipient,
          ...(first.tag !== undefined ? { tag: first.tag } : {}),
          delivered: failed.length === 0,
          details,
          attemptAt,
          segmentsSucceeded: segments.length - failed.length,
          segmentsFailed: failed.length,
          receivedAt: now,
        }),
      ],
      subjects,
    });
    await this.deps.oplogs
      .write(geo, operationLogRecord({ resourceId: resource.id, time: now, operation: 'SMSDeliveryReportsReceived', method: 'SMPP', status: 200, durationMs: Date.now() - started, correlationId: first.messageId, subjects }))
      .catch((error: unknown) => this.deps.logger.warn('operation_log.write_failed', { resourceId: resource.id, errorName: error instanceof Error ? error.name : typeof error }));
  }
}
