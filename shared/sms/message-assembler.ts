import type { PDU } from 'smpp';
import { concatenationOf } from './sms-encoding.js';

/**
 * Puts a mobile-originated message back together from its segments (a UDH concatenation element,
 * or the SAR TLVs), in memory only: the text is never stored. Parts of a message wait at most
 * PART_WAIT_MS for the rest. Once handled, `done()` forgets the message; if handling fails the
 * parts stay, so the carrier's redelivery of the last part completes it again.
 */
export const PART_WAIT_MS = 10 * 60_000;

interface Pending {
  parts: Map<number, string>;
  total: number;
  timer: NodeJS.Timeout;
}

export interface AssembledMessage {
  text: string;
  segments: number;
  /** Forget the parts (the message was handled). */
  done(): void;
}

export class MessageAssembler {
  readonly #pending = new Map<string, Pending>();

  /** Adds a deliver_sm; returns the whole message once every part is in. */
  add(link: string, from: string, to: string, pdu: PDU): AssembledMessage | undefined {
    const short = (pdu.short_message ?? {}) as { udh?: Buffer[]; message?: unknown };
    const text = typeof short.message === 'string' ? short.message : Buffer.isBuffer(short.message) ? short.message.toString('latin1') : typeof pdu.message_payload?.message === 'string' ? String(pdu.message_payload.message) : '';
    const concat = concatenationOf(short.udh ?? []) ?? sarOf(pdu);
    if (!concat || concat.total <= 1) return { text, segments: 1, done: () => undefined };
    const key = [link, from, to, concat.reference, concat.total].join('\u0000');
    let pending = this.#pending.get(key);
    if (!pending) {
      const timer = setTimeout(() => this.#pending.delete(key), PART_WAIT_MS);
      timer.unref();
      pending = { parts: new Map(), total: concat.total, timer };
      this.#pending.set(key, pending);
    }
    pending.parts.set(concat.sequence, text);
    if (pending.parts.size < pending.total) return undefined;
    const whole = Array.from({ length: pending.total }, (_, i) => pending!.parts.get(i + 1) ?? '').join('');
    return {
      text: whole,
      segments: pending.total,
      done: () => {
        clearTimeout(pending!.timer);
        this.#pending.delete(key);
      },
    };
  }
}

function sarOf(pdu: PDU): { reference: number; total: number; sequence: number } | undefined {
  if (typeof pdu.sar_msg_ref_num !== 'number' || typeof pdu.sar_total_segments !== 'number' || typeof pdu.sar_segment_seqnum !== 'number') return undefined;
  return { reference: pdu.sar_msg_ref_num, total: pdu.sar_total_segments, sequence: pdu.sar_segment_seqnum };
}
