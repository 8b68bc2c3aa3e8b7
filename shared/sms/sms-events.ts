import { randomUUID } from 'node:crypto';
import type { EventDraft } from '../events/event-record.js';

/**
 * The ACS SMS events (Event Grid, `Microsoft.Communication.*`), in the @azure/eventgrid 5.12 shapes
 * (AcsSmsReceivedEventData, AcsSmsDeliveryReportReceivedEventData). Numbers are E.164; the subject
 * is the resource's number as ACS writes it (`/phonenumber/{digits}`); the event id is the message
 * id, as ACS's. With `minimal` payloads the message text (`message`) is left out, like every
 * content field (shared/events/event-record.ts).
 */
export const SMS_EVENT = {
  received: 'Microsoft.Communication.SMSReceived',
  deliveryReport: 'Microsoft.Communication.SMSDeliveryReportReceived',
} as const;

/** ACS message ids: direction, the UTC time to the second, and a GUID. */
export function smsMessageId(direction: 'Outgoing' | 'Incoming', at: Date): string {
  return `${direction}_${at.toISOString().replace(/[-:T]/g, '').slice(0, 14)}${randomUUID()}`;
}

const subjectOf = (resourceNumber: string) => `/phonenumber/${resourceNumber.replace(/^\+/, '')}`;

export function smsReceivedEvent(input: { messageId: string; from: string; to: string; message: string; receivedAt: string; segmentCount: number }): EventDraft {
  return {
    id: input.messageId,
    type: SMS_EVENT.received,
    subject: subjectOf(input.to),
    time: input.receivedAt,
    data: { messageId: input.messageId, from: input.from, to: input.to, message: input.message, receivedTimestamp: input.receivedAt, segmentCount: input.segmentCount },
  };
}

export interface DeliveryOutcome {
  messageId: string;
  from: string;
  to: string;
  tag?: string;
  delivered: boolean;
  details: string;
  attemptAt: string;
  segmentsSucceeded: number;
  segmentsFailed: number;
  receivedAt: string;
}

export function deliveryReportEvent(outcome: DeliveryOutcome): EventDraft {
  return {
    id: outcome.messageId,
    type: SMS_EVENT.deliveryReport,
    subject: subjectOf(outcome.from),
    time: outcome.receivedAt,
    data: {
      messageId: outcome.messageId,
      from: outcome.from,
      to: outcome.to,
      deliveryStatus: outcome.delivered ? 'Delivered' : 'Failed',
      deliveryStatusDetails: outcome.details,
      deliveryAttempts: [{ timestamp: outcome.attemptAt, segmentsSucceeded: outcome.segmentsSucceeded, segmentsFailed: outcome.segmentsFailed }],
      receivedTimestamp: outcome.receivedAt,
      ...(outcome.tag !== undefined ? { tag: outcome.tag } : {}),
    },
  };
}
