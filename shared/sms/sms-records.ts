import type { Container } from '@azure/cosmos';
import { stableId } from '../events/event-record.js';
import type { StoreOp } from '../events/outbox.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * What SMS keeps in the resource's geography (container `smsRecords`, partition `/resourceId`), and
 * never message text:
 * - `smsOptOut`: a recipient who sent STOP to a number of the resource, until they send START;
 * - `smsDelivery`: one per segment of a message sent with `enableDeliveryReport`, until the
 *   carrier's receipts for every segment are in (then one delivery report event goes out) or
 *   DELIVERY_WAIT_HOURS pass;
 * - `smsRepeatability`: the outcome of a recipient's send under a `repeatabilityRequestId`, for
 *   REPEATABILITY_HOURS, so a retry answers it instead of sending again.
 * `phoneNumber` is always the resource's number and `recipient` the other party; `subjects` holds
 * the recipient's raw id (`4:+...`), which is how a data subject request finds the record.
 */
export const DELIVERY_WAIT_HOURS = 48;
export const REPEATABILITY_HOURS = 24;

interface SmsRecordBase {
  id: string;
  resourceId: string;
  phoneNumber: string;
  recipient: string;
  subjects: string[];
}

export interface OptOutRecord extends SmsRecordBase {
  kind: 'smsOptOut';
  optedOutAt: string;
}

export interface DeliveryRecord extends SmsRecordBase {
  kind: 'smsDelivery';
  messageId: string;
  tag?: string;
  /** 1-based segment number and the message's segment count. */
  segment: number;
  segments: number;
  /** The carrier link and its message id of this segment. */
  link: string;
  carrierMessageId: string;
  submittedAt: string;
  /** Set when the segment's receipt arrived. */
  state?: string;
  error?: string;
  doneAt?: string;
  expiresAt: string;
}

export interface RecipientOutcome {
  httpStatusCode: number;
  successful: boolean;
  messageId?: string;
  errorMessage?: string;
}

export interface RepeatabilityRecord extends SmsRecordBase {
  kind: 'smsRepeatability';
  /** The message id the first attempt uses (known before it is sent). */
  messageId: string;
  firstSent: string;
  createdAt: string;
  /** The first attempt's outcome; absent while it is being sent. */
  outcome?: RecipientOutcome;
  expiresAt: string;
}

export type SmsRecord = OptOutRecord | DeliveryRecord | RepeatabilityRecord;

export const optOutId = (resourceId: string, phoneNumber: string, recipient: string) => stableId('smsOptOut', resourceId, phoneNumber, recipient);
export const deliveryId = (link: string, carrierMessageId: string) => stableId('smsDelivery', link, carrierMessageId);
export const repeatabilityId = (resourceId: string, requestId: string) => stableId('smsRepeatability', resourceId, requestId.toLowerCase());

export function optOutRecord(resourceId: string, phoneNumber: string, recipient: string, at: Date): OptOutRecord {
  return { id: optOutId(resourceId, phoneNumber, recipient), resourceId, kind: 'smsOptOut', phoneNumber, recipient, optedOutAt: at.toISOString(), subjects: [phoneRawId(recipient)] };
}

const target = { plane: 'geo', container: 'smsRecords' } as const;
export const upsertOp = (record: SmsRecord): StoreOp => ({ op: 'upsert', target, partitionKey: record.resourceId, item: record });
export const deleteOp = (resourceId: string, id: string): StoreOp => ({ op: 'delete', target, partitionKey: resourceId, id });

export class SmsRecords {
  container(geo: GeoStore): Promise<Container> {
    return geo.container('smsRecords');
  }

  async read<T extends SmsRecord>(geo: GeoStore, resourceId: string, id: string): Promise<T | undefined> {
    try {
      const { resource } = await (await geo.existingContainer('smsRecords')).item(id, resourceId).read<T>();
      return resource;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async isOptedOut(geo: GeoStore, resourceId: string, phoneNumber: string, recipient: string): Promise<boolean> {
    return (await this.read<OptOutRecord>(geo, resourceId, optOutId(resourceId, phoneNumber, recipient)))?.kind === 'smsOptOut';
  }

  /** The delivery records of one message (every segment), from its partition. */
  async segmentsOf(geo: GeoStore, resourceId: string, messageId: string): Promise<DeliveryRecord[]> {
    const container = await geo.existingContainer('smsRecords');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<DeliveryRecord>({ query: "SELECT * FROM c WHERE c.resourceId = @rid AND c.kind = 'smsDelivery' AND c.messageId = @m", parameters: [{ name: '@rid', value: resourceId }, { name: '@m', value: messageId }] }, { partitionKey: resourceId })
        .fetchAll(),
    );
    return resources;
  }

  /** Deletes every record of a resource's number (its release); returns how many of each kind went. */
  async deleteForNumber(geo: GeoStore, resourceId: string, phoneNumber: string): Promise<Record<SmsRecord['kind'], number>> {
    const counts: Record<SmsRecord['kind'], number> = { smsOptOut: 0, smsDelivery: 0, smsRepeatability: 0 };
    const container = await geo.existingContainer('smsRecords');
    for (;;) {
      const { resources } = await emptyIfMissing(() =>
        container.items
          .query<Pick<SmsRecord, 'id' | 'kind'>>({ query: 'SELECT TOP 200 c.id, c.kind FROM c WHERE c.resourceId = @rid AND c.phoneNumber = @n', parameters: [{ name: '@rid', value: resourceId }, { name: '@n', value: phoneNumber }] }, { partitionKey: resourceId })
          .fetchAll(),
      );
      if (resources.length === 0) return counts;
      for (let i = 0; i < resources.length; i += 16) {
        await Promise.all(
          resources.slice(i, i + 16).map(async (r) => {
            if (await deleteIfExists(container, r.id, resourceId)) counts[r.kind] += 1;
          }),
        );
      }
    }
  }
}
