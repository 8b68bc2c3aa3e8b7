import type { PDU } from 'smpp';
import type { Clock } from '../clock.js';
import type { Outbox } from '../events/outbox.js';
import { operationLogRecord, type OperationLogs } from '../oplog/operation-log.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { NumberPool } from '../phone-numbers/number-pool.js';
import { canReceive, type PoolNumber } from '../phone-numbers/pool-number.js';
import type { Resource } from '../resources/resource.js';
import { eventSource } from '../resources/resource-service.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { geographyByKey } from '../geography/geographies.js';
import { isDeliveryReceipt, parseDeliveryReceipt } from './delivery-receipt.js';
import type { DeliveryReports } from './delivery-reports.js';
import { MessageAssembler } from './message-assembler.js';
import { KEYWORD_REPLIES, keywordOf } from './opt-out-keywords.js';
import { encodeMessage, ESM_CLASS_UDHI } from './sms-encoding.js';
import { smsMessageId, smsReceivedEvent } from './sms-events.js';
import { deleteOp, optOutId, optOutRecord, upsertOp, type SmsRecords } from './sms-records.js';
import type { SmppLink } from './smpp-link.js';

/**
 * What carriers deliver on a link (deliver_sm), routed by the number it is addressed to in the
 * link's geography's pool: a delivery receipt goes to DeliveryReports; a mobile-originated message
 * (reassembled from its segments in memory) is handled for its opt-out keyword (STOP, START, HELP),
 * relayed as an SMSReceived event through the resource's outbox, logged with both numbers, and
 * forgotten. Answers the deliver_sm_resp command_status: 0 (taken), ESME_RINVDSTADR (not a number
 * of this service) or ESME_RX_T_APPN (try again later: the carrier redelivers).
 */
export const ESME_RINVDSTADR = 0x0b;
export const ESME_RX_T_APPN = 0x64;

export interface SmsInboundDeps {
  stores: StoreDirectory;
  pool: NumberPool;
  records: SmsRecords;
  reports: DeliveryReports;
  outboxFor: (geo: GeoStore) => Outbox;
  oplogs: OperationLogs;
  resourceById: (id: string) => Promise<Resource | undefined>;
  clock: Clock;
  logger: Logger;
}

/** A TON-international address (digits, with or without a plus) as E.164. */
export const addressToE164 = (address: unknown) => (typeof address === 'string' && /^\+?\d{3,15}$/.test(address) ? `+${address.replace(/^\+/, '')}` : undefined);

export class SmsInbound {
  readonly #assembler = new MessageAssembler();

  constructor(private readonly deps: SmsInboundDeps) {}

  async handle(link: SmppLink, pdu: PDU): Promise<number> {
    const geo = this.deps.stores.forGeography(geographyByKey(link.geographyKey));
    const ours = addressToE164(pdu.destination_addr);
    const theirs = addressToE164(pdu.source_addr);
    if (!ours || !theirs) return ESME_RINVDSTADR;
    const number = await this.deps.pool.get(geo, ours);
    if (!number || number.status !== 'assigned' || !number.assignedResourceId) return ESME_RINVDSTADR;
    if (number.assignment?.releasingSince) return ESME_RX_T_APPN;
    const resource = await this.deps.resourceById(number.assignedResourceId);
    if (!resource || resource.state !== 'active') return ESME_RINVDSTADR;
    if (isDeliveryReceipt(pdu)) {
      const receipt = parseDeliveryReceipt(pdu);
      return receipt ? this.deps.reports.receipt(geo, resource, link, receipt) : 0;
    }
    const message = this.#assembler.add(link.name, theirs, ours, pdu);
    if (!message) return 0;
    try {
      await this.#received(geo, resource, number, link, { from: theirs, to: ours, text: message.text, segments: message.segments });
      message.done();
      return 0;
    } catch (error) {
      this.deps.logger.warn('sms.inbound_failed', { resourceId: resource.id, geography: geo.geography.key, errorName: error instanceof Error ? error.name : typeof error });
      return ESME_RX_T_APPN;
    }
  }

  async #received(geo: GeoStore, resource: Resource, number: PoolNumber, link: SmppLink, message: { from: string; to: string; text: string; segments: number }): Promise<void> {
    const started = Date.now();
    const now = this.deps.clock.now();
    const keyword = keywordOf(message.text);
    const ops =
      keyword === 'optOut'
        ? [upsertOp(optOutRecord(resource.id, message.to, message.from, now))]
        : keyword === 'optIn'
          ? [deleteOp(resource.id, optOutId(resource.id, message.to, message.from))]
          : [];
    const messageId = smsMessageId('Incoming', now);
    const events = canReceive(number.assignment!.capabilities)
      ? [smsReceivedEvent({ messageId, from: message.from, to: message.to, message: message.text, receivedAt: now.toISOString(), segmentCount: message.segments })]
      : [];
    const subjects = [phoneRawId(message.from), phoneRawId(message.to)];
    if (ops.length + events.length > 0) {
      await this.deps.outboxFor(geo).commit({ resourceId: resource.id, eventSource: eventSource(resource.id), payloadMode: resource.eventPayloads, ops, events, subjects });
    }
    await this.deps.oplogs
      .write(geo, operationLogRecord({ resourceId: resource.id, time: now.toISOString(), operation: 'SMSMessagesReceived', method: 'SMPP', status: 200, durationMs: Date.now() - started, correlationId: messageId, subjects }))
      .catch((error: unknown) => this.deps.logger.warn('operation_log.write_failed', { resourceId: resource.id, errorName: error instanceof Error ? error.name : typeof error }));
    if (keyword) {
      // The network's answer goes back from the number; its failure does not undo the opt-out.
      const reply = encodeMessage(KEYWORD_REPLIES[keyword], 0);
      void (async () => {
        for (const segment of reply.segments) {
          await link.submit({
            source_addr_ton: 1,
            source_addr_npi: 1,
            source_addr: message.to.slice(1),
            dest_addr_ton: 1,
            dest_addr_npi: 1,
            destination_addr: message.from.slice(1),
            esm_class: segment.udh.length > 0 ? ESM_CLASS_UDHI : 0,
            data_coding: reply.dataCoding,
            short_message: Buffer.concat([segment.udh, segment.payload]),
          });
        }
      })().catch(() => this.deps.logger.warn('sms.keyword_reply_failed', { resourceId: resource.id, geography: geo.geography.key }));
    }
  }
}
