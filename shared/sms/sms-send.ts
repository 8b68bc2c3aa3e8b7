import { randomInt } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { NumberPool } from '../phone-numbers/number-pool.js';
import { canSend, e164Schema, type PoolNumber } from '../phone-numbers/pool-number.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { OPTED_OUT_MESSAGE } from './opt-out-keywords.js';
import { claimRepeatability, settleRepeatability, type RecipientRequest } from './sms-repeatability.js';
import { encodeMessage, ESM_CLASS_UDHI } from './sms-encoding.js';
import { smsMessageId } from './sms-events.js';
import { DELIVERY_WAIT_HOURS, deliveryId, type DeliveryRecord, type RecipientOutcome, type SmsRecords } from './sms-records.js';
import { LinkDownError, SubmitRefusedError, type SmppLink } from './smpp-link.js';
import type { SmppLinks } from './smpp-links.js';

/**
 * SMS API 2021-03-07 `POST /sms` (SmsClient.send): one message from a number of the resource to
 * 1-100 recipients, each answered on its own, as ACS answers (status code, `messageId`,
 * `repeatabilityResult`, `errorMessage`). The text exists only in memory while it is encoded and
 * handed to the carrier link of the number (the geography's carrier that serves it); nothing
 * stores it. With `enableDeliveryReport`, each segment's carrier id is recorded (no text) so its
 * receipt can be turned into the delivery report event.
 */
export const sendBodySchema = z.object({
  from: z.string({ error: 'from is required' }).regex(/^\+[1-9]\d{6,14}$/, 'Invalid From phone number format.'),
  smsRecipients: z
    .array(
      z.object({
        to: z.string({ error: 'to is required' }),
        repeatabilityRequestId: z.string().optional(),
        repeatabilityFirstSent: z.string().optional(),
      }),
      { error: 'smsRecipients must be a list of recipients' },
    )
    .min(1, 'smsRecipients must list 1 to 100 recipients')
    .max(100, 'smsRecipients must list 1 to 100 recipients'),
  message: z.string({ error: 'message is required' }).max(2048, 'message must be at most 2048 characters'),
  smsSendOptions: z.object({ enableDeliveryReport: z.boolean({ error: 'smsSendOptions.enableDeliveryReport must be true or false' }).default(false), tag: z.string().max(1000, 'tag must be at most 1000 characters').optional() }).optional(),
});
export type SendBody = z.infer<typeof sendBodySchema>;

export interface SendResponseItem extends RecipientOutcome {
  to: string;
  repeatabilityResult?: 'accepted' | 'rejected';
}

/** How many recipients are sent to at once (the link's window bounds the PDUs in flight). */
const RECIPIENTS_AT_ONCE = 16;

export class SmsSender {
  constructor(private readonly deps: { stores: StoreDirectory; pool: NumberPool; records: SmsRecords; links: SmppLinks; clock: Clock; logger: Logger }) {}

  async send(resource: Resource, body: SendBody): Promise<SendResponseItem[]> {
    const geo = this.deps.stores.forResource(resource);
    const number = await this.deps.pool.assignedNumber(geo, resource.id, body.from);
    if (!number || number.assignment?.releasingSince) throw new ServiceError('Forbidden', `The from phone number ${body.from} is not a phone number of this resource.`, { target: 'from' });
    if (!canSend(number.assignment!.capabilities)) throw new ServiceError('Forbidden', `The from phone number ${body.from} does not have outbound SMS enabled (capabilities sms '${number.assignment!.capabilities.sms}').`, { target: 'from' });
    const link = this.deps.links.link(geo.geography.key, number.carrier);
    const results: SendResponseItem[] = new Array(body.smsRecipients.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(RECIPIENTS_AT_ONCE, body.smsRecipients.length) }, async () => {
        while (next < body.smsRecipients.length) {
          const index = next++;
          results[index] = await this.#sendOne(geo, resource, number, link, body, body.smsRecipients[index]!);
        }
      }),
    );
    return results;
  }

  async #sendOne(geo: GeoStore, resource: Resource, number: PoolNumber, link: SmppLink | undefined, body: SendBody, recipient: RecipientRequest): Promise<SendResponseItem> {
    const to = recipient.to;
    const repeatable = recipient.repeatabilityRequestId !== undefined;
    const answer = (outcome: RecipientOutcome, result?: 'accepted' | 'rejected'): SendResponseItem => ({ to, ...outcome, ...(result ? { repeatabilityResult: result } : {}) });
    if (!e164Schema.safeParse(to).success) return answer({ httpStatusCode: 400, successful: false, errorMessage: 'Invalid To phone number format.' }, repeatable ? 'rejected' : undefined);
    const now = this.deps.clock.now();
    let messageId = smsMessageId('Outgoing', now);
    if (repeatable) {
      const claim = await claimRepeatability(this.deps.records, geo, { resourceId: resource.id, phoneNumber: number.phoneNumber, recipient, messageId, now });
      if (claim.answer) return { to, ...claim.answer };
      messageId = claim.messageId!;
    }
    const outcome = await this.#deliver(geo, resource, number, link, body, to, messageId, now);
    if (repeatable) await settleRepeatability(this.deps.records, geo, resource.id, recipient.repeatabilityRequestId!, outcome);
    return answer(outcome, repeatable ? 'accepted' : undefined);
  }

  async #deliver(geo: GeoStore, resource: Resource, number: PoolNumber, link: SmppLink | undefined, body: SendBody, to: string, messageId: string, now: Date): Promise<RecipientOutcome> {
    if (await this.deps.records.isOptedOut(geo, resource.id, number.phoneNumber, to)) return { httpStatusCode: 403, successful: false, errorMessage: OPTED_OUT_MESSAGE };
    if (!link) return { httpStatusCode: 503, successful: false, errorMessage: `Service unavailable: no carrier connection '${number.carrier}' is configured for ${geo.geography.name}; the message was not sent.` };
    const report = body.smsSendOptions?.enableDeliveryReport ?? false;
    const encoded = encodeMessage(body.message, randomInt(256));
    const segments = encoded.segments.length;
    let sent = 0;
    try {
      for (const [index, segment] of encoded.segments.entries()) {
        const carrierMessageId = await link.submit({
          source_addr_ton: 1,
          source_addr_npi: 1,
          source_addr: number.phoneNumber.slice(1),
          dest_addr_ton: 1,
          dest_addr_npi: 1,
          destination_addr: to.slice(1),
          esm_class: segment.udh.length > 0 ? ESM_CLASS_UDHI : 0,
          registered_delivery: report ? 0x01 : 0x00,
          data_coding: encoded.dataCoding,
          short_message: Buffer.concat([segment.udh, segment.payload]),
        });
        sent += 1;
        if (report) await this.#track(geo, resource, number, link, body, to, messageId, index + 1, segments, carrierMessageId, now);
      }
    } catch (error) {
      const partly = sent > 0 ? ` ${sent} of ${segments} segments were sent.` : '';
      if (error instanceof LinkDownError) {
        return { messageId, httpStatusCode: 503, successful: false, errorMessage: `Service unavailable: the carrier connection is down; the message was not sent.${partly} Send it again later.` };
      }
      if (error instanceof SubmitRefusedError) return { messageId, ...refusal(error.commandStatus, partly) };
      throw error;
    }
    return { messageId, httpStatusCode: 202, successful: true };
  }

  async #track(geo: GeoStore, resource: Resource, number: PoolNumber, link: SmppLink, body: SendBody, to: string, messageId: string, segment: number, segments: number, carrierMessageId: string, now: Date): Promise<void> {
    const record: DeliveryRecord = {
      id: deliveryId(link.name, carrierMessageId),
      resourceId: resource.id,
      kind: 'smsDelivery',
      phoneNumber: number.phoneNumber,
      recipient: to,
      subjects: [phoneRawId(to)],
      messageId,
      ...(body.smsSendOptions?.tag !== undefined ? { tag: body.smsSendOptions.tag } : {}),
      segment,
      segments,
      link: link.name,
      carrierMessageId,
      submittedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + DELIVERY_WAIT_HOURS * 3_600_000).toISOString(),
    };
    await (await this.deps.records.container(geo)).items.upsert(record);
  }
}

/** A recipient's answer for a message the carrier refused. */
function refusal(commandStatus: number, partly: string): RecipientOutcome {
  const status = `SMPP status 0x${commandStatus.toString(16).padStart(8, '0')}`;
  if (commandStatus === 0x0b) return { httpStatusCode: 400, successful: false, errorMessage: `Invalid To phone number format (the carrier refused the destination, ${status}).${partly}` };
  if (commandStatus === 0x58 || commandStatus === 0x14) return { httpStatusCode: 429, successful: false, errorMessage: `Too many requests: the carrier is throttling (${status}); send it again later.${partly}` };
  return { httpStatusCode: 502, successful: false, errorMessage: `The carrier refused the message (${status}).${partly}` };
}
