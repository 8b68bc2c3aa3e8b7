import { stableId, type EventDraft, type EventPayloadMode } from '../events/event-record.js';
import type { RecipientRecord, RecipientState } from './email-operation.js';

/**
 * `Microsoft.Communication.EmailDeliveryReportReceived`, one per recipient once it has its outcome,
 * in the ACS shape (@azure/eventgrid 5.12): subject `sender/{sender}/message/{operationId}`, data
 * `sender`, `recipient`, `internetMessageId`, `messageId` (the operation id), `status`
 * (`Delivered`, `Bounced`, `Suppressed`, `Failed`), `deliveryStatusDetails.statusMessage` and
 * `deliveryAttemptTimestamp`. A resource with `minimal` payloads gets no address at all (Event Grid
 * may hold event data outside the geography): subject `message/{operationId}`, and instead of
 * `sender`, `recipient` and `internetMessageId` the recipient's place in the request
 * (`recipientRef`, e.g. `cc[0]` counted over distinct addresses). The status message is always our
 * own words with the relay's reply codes, never the relay's free text (which may quote addresses).
 */
export const EMAIL_DELIVERY_REPORT = 'Microsoft.Communication.EmailDeliveryReportReceived';

export type FinalState = Exclude<RecipientState, 'pending'>;

const STATUS_MESSAGES: Record<FinalState, string> = {
  Delivered: 'The relay accepted the message for the recipient.',
  Bounced: 'The relay refused the recipient permanently (hard bounce); the address is suppressed.',
  Suppressed: 'The recipient is on the suppression list after a recent hard bounce; the message was not sent.',
  Failed: 'The message could not be delivered to the recipient.',
};

export function statusMessage(state: FinalState, recipient: Pick<RecipientRecord, 'code' | 'enhanced'>): string {
  const codes = [recipient.code, recipient.enhanced].filter((c) => c !== undefined).join(' ');
  return codes ? `${STATUS_MESSAGES[state]} (${codes})` : STATUS_MESSAGES[state];
}

export interface DeliveryReportInput {
  resourceId: string;
  operationId: string;
  sender: string;
  internetMessageId: string;
  recipient: RecipientRecord;
  /** The recipient's position among the operation's distinct addresses of its kind. */
  recipientRef: string;
  index: number;
  mode: EventPayloadMode;
}

export function deliveryReportEvent(input: DeliveryReportInput): EventDraft {
  const state = input.recipient.state as FinalState;
  const common = {
    messageId: input.operationId,
    status: state,
    deliveryStatusDetails: { statusMessage: statusMessage(state, input.recipient) },
    deliveryAttemptTimestamp: input.recipient.at,
  };
  const full = input.mode === 'full';
  return {
    // Derived from the operation and the recipient's place: a report committed again keeps its id.
    id: stableId('email.delivery-report', input.resourceId, input.operationId, String(input.index)),
    type: EMAIL_DELIVERY_REPORT,
    subject: full ? `sender/${input.sender}/message/${input.operationId}` : `message/${input.operationId}`,
    ...(input.recipient.at ? { time: input.recipient.at } : {}),
    data: full
      ? { sender: input.sender, recipient: input.recipient.address, internetMessageId: input.internetMessageId, ...common }
      : { recipientRef: input.recipientRef, ...common },
  };
}

/** `to[0]`, `cc[1]`, ...: the recipient's place among the operation's distinct addresses of its kind. */
export function recipientRefs(recipients: Pick<RecipientRecord, 'kind'>[]): string[] {
  const counts = { to: 0, cc: 0, bcc: 0 };
  return recipients.map((r) => `${r.kind}[${counts[r.kind]++}]`);
}
