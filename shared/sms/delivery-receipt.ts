import type { PDU } from 'smpp';

/**
 * An SMSC delivery receipt: a deliver_sm whose esm_class says "MC delivery receipt" (0x04), with the
 * de-facto standard text (SMPP 3.4 appendix B)
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 * and, when the carrier sends them, the TLVs receipted_message_id and message_state (which win).
 * Only the id, the state and the error code are read: the `text:` part (the start of the message)
 * is never looked at, let alone kept.
 */
export interface DeliveryReceipt {
  /** The carrier's id of the submitted message (submit_sm_resp message_id). */
  messageId: string;
  /** The final state: DELIVRD, EXPIRED, DELETED, UNDELIV, ACCEPTD, UNKNOWN or REJECTD. */
  state: string;
  /** The carrier's error code ('000' when none). */
  error: string;
  /** When the carrier says it reached that state (done date), if it says. */
  doneAt?: string;
}

const ESM_CLASS_TYPE_MASK = 0x3c;
const ESM_CLASS_RECEIPT = 0x04;

/** message_state TLV values (SMPP 3.4, 5.3.2.35) as the receipt text names them. */
const STATE_NAMES: Record<number, string> = { 1: 'ENROUTE', 2: 'DELIVRD', 3: 'EXPIRED', 4: 'DELETED', 5: 'UNDELIV', 6: 'ACCEPTD', 7: 'UNKNOWN', 8: 'REJECTD' };

export function isDeliveryReceipt(pdu: PDU): boolean {
  return ((pdu.esm_class ?? 0) & ESM_CLASS_TYPE_MASK) === ESM_CLASS_RECEIPT;
}

/** The receipt in a deliver_sm, or undefined when it is not one that can be read. */
export function parseDeliveryReceipt(pdu: PDU): DeliveryReceipt | undefined {
  if (!isDeliveryReceipt(pdu)) return undefined;
  const short = pdu.short_message as { message?: unknown } | Buffer | undefined;
  const raw = Buffer.isBuffer(short) ? short.toString('latin1') : typeof short?.message === 'string' ? short.message : Buffer.isBuffer(short?.message) ? short.message.toString('latin1') : '';
  // Only what comes before `text:` is read.
  const head = raw.split(/\btext:/i)[0] ?? '';
  const field = (name: string) => new RegExp(`\\b${name}:(\\S+)`, 'i').exec(head)?.[1];
  const messageId = typeof pdu.receipted_message_id === 'string' && pdu.receipted_message_id !== '' ? pdu.receipted_message_id : field('id');
  const stateFromTlv = typeof pdu.message_state === 'number' ? STATE_NAMES[pdu.message_state] : undefined;
  const state = (stateFromTlv ?? field('stat'))?.toUpperCase();
  if (!messageId || !state) return undefined;
  const done = /\bdone date:(\d{10,12})/i.exec(head)?.[1];
  return { messageId, state, error: field('err') ?? '000', ...(done ? { doneAt: smppDate(done) } : {}) };
}

/** YYMMDDhhmm[ss] (UTC) as an ISO date-time. */
function smppDate(value: string): string | undefined {
  const [yy, mm, dd, hh, mi, ss] = [0, 2, 4, 6, 8, 10].map((i) => value.slice(i, i + 2));
  const iso = `20${yy}-${mm}-${dd}T${hh}:${mi}:${ss || '00'}Z`;
  return Number.isNaN(Date.parse(iso)) ? undefined : new Date(iso).toISOString();
}

/** Whether the message reached the handset. */
export const isDelivered = (receipt: DeliveryReceipt) => receipt.state === 'DELIVRD';

/** Formats a receipt's text as SMSCs send it (the local SMSC uses this). */
export function formatReceiptText(fields: { id: string; delivered: boolean; state: string; error: string; submitDate: Date; doneDate: Date; text: string }): string {
  const date = (d: Date) => d.toISOString().slice(2, 16).replace(/[-T:]/g, '');
  return `id:${fields.id} sub:001 dlvrd:${fields.delivered ? '001' : '000'} submit date:${date(fields.submitDate)} done date:${date(fields.doneDate)} stat:${fields.state} err:${fields.error} text:${fields.text}`;
}
