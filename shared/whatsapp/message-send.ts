import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { ERROR_STATUS, ServiceError, type ErrorCode } from '../errors/service-error.js';
import type { Outbox } from '../events/outbox.js';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { Resource } from '../resources/resource.js';
import { eventSource } from '../resources/resource-service.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { acsMessageId, deliveryStatusEvent } from './advanced-message-events.js';
import type { ChannelRecord } from './channel.js';
import type { ChannelStore } from './channel-store.js';
import { GraphError, type GraphClient } from './graph-client.js';
import { isTransient, upstreamFailure, type UpstreamFailure } from './graph-errors.js';
import { graphMessage } from './graph-payload.js';
import { maskNumbers, type MessageRecords, type SendOutcome, type StoredError } from './message-records.js';
import { bodyHash, claimRepeatability, settleRepeatability, type Repeatability } from './messages-repeatability.js';
import { whatsAppUserId, type NotificationContent } from './notification-content.js';

/**
 * `POST /messages/notifications:send`: one message to each of 1-100 WhatsApp users, each sent on
 * its own to the Graph API (`POST /{phone-number-id}/messages`) with the channel's access token.
 * The content exists only in memory while it is handed to WhatsApp; nothing stores it.
 *
 * - Every recipient accepted: 202, a receipt per recipient (`messageId` derived from WhatsApp's id).
 * - Some refused: 202 all the same (the accepted ones went out), and each refused recipient's
 *   receipt is followed by an `AdvancedMessageDeliveryStatusUpdated` event `failed` carrying
 *   WhatsApp's error (`error.channelCode`, `error.channelMessage`), as ACS reports a message that
 *   WhatsApp does not deliver.
 * - All refused: the ACS error of the failure (graph-errors.ts) with one detail per recipient
 *   (`target` `to.{index}`); nothing was sent, so the caller may simply send again.
 */
const sendResponseSchema = z.object({ messages: z.array(z.object({ id: z.string().min(1) })).min(1) });

const RECIPIENTS_AT_ONCE = 8;

export interface SendRequest {
  content: NotificationContent;
  rawBody: Buffer;
  repeatability?: Repeatability;
}

export interface SendAnswer {
  receipts: { messageId: string; to: string }[];
  /** `Repeatability-Result` when the request carried repeatability headers. */
  repeatabilityResult?: 'accepted';
}

type RecipientResult = { wamid: string } | { failure: UpstreamFailure };
type Failure = { index: number; failure: UpstreamFailure };

export class MessageSender {
  constructor(
    private readonly deps: {
      stores: StoreDirectory;
      channels: ChannelStore;
      graph: () => GraphClient;
      baseUrlFor: (geographyKey: string) => string;
      records: MessageRecords;
      outboxFor: (geo: GeoStore) => Outbox;
      clock: Clock;
      logger: Logger;
      readSetting: (name: string) => string | undefined;
      hashKey: string;
    },
  ) {}

  async send(resource: Resource, request: SendRequest): Promise<SendAnswer> {
    const geo = this.deps.stores.forResource(resource);
    const channel = await this.deps.channels.require(resource, request.content.channelRegistrationId, 'channelRegistrationId');
    const token = this.deps.readSetting(channel.accessTokenSetting)?.trim();
    if (!token) throw new ServiceError('ServiceUnavailable', `The channel's access token is not available: the app setting ${channel.accessTokenSetting} is not set.`, { headers: { 'retry-after': '60' } });
    const message = graphMessage(request.content);
    const repeatability = request.repeatability;
    if (repeatability) {
      const claim = await claimRepeatability(this.deps.records, geo, resource.id, repeatability, bodyHash(this.deps.hashKey, resource.id, request.rawBody), this.deps.clock.now());
      if (claim.kind === 'replay') return replay(claim.outcome, request.content.to);
    }
    let sent: { receipts: SendAnswer['receipts']; failures: Failure[] };
    try {
      sent = this.#receipts(resource, geo, channel, request.content.to, await this.#sendAll(channel, geo, token, request.content.to, message));
    } catch (error) {
      if (!(error instanceof ServiceError)) {
        if (repeatability) await settleRepeatability(this.deps.records, geo, resource.id, repeatability, { status: 500 }).catch(() => undefined);
        throw error;
      }
      if (repeatability) await settleRepeatability(this.deps.records, geo, resource.id, repeatability, { status: error.status, error: storedError(error) });
      throw repeatability ? withHeader(error, 'repeatability-result', 'accepted') : error;
    }
    // The outcome is recorded before anything else can fail: a retry with the same id must not send again.
    if (repeatability) await settleRepeatability(this.deps.records, geo, resource.id, repeatability, { status: 202, messageIds: sent.receipts.map((r) => r.messageId) });
    if (sent.failures.length > 0) await this.#reportFailures(resource, geo, channel, request.content.to, sent);
    return { receipts: sent.receipts, ...(repeatability ? { repeatabilityResult: 'accepted' as const } : {}) };
  }

  async #sendAll(channel: ChannelRecord, geo: GeoStore, token: string, to: string[], message: Record<string, unknown>): Promise<RecipientResult[]> {
    const url = `${this.deps.baseUrlFor(geo.geography.key)}/${channel.phoneNumberId}/messages`;
    const results: RecipientResult[] = new Array(to.length);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(RECIPIENTS_AT_ONCE, to.length) }, async () => {
        while (next < to.length) {
          const index = next++;
          const body = { messaging_product: 'whatsapp', recipient_type: 'individual', to: whatsAppUserId(to[index]!)!, ...message };
          try {
            const answer = await this.deps.graph().json('POST', url, token, sendResponseSchema, body);
            results[index] = { wamid: answer.messages[0]!.id };
          } catch (error) {
            if (!(error instanceof GraphError)) throw error;
            results[index] = { failure: upstreamFailure(error, `The message to to.${index} was not sent`) };
          }
        }
      }),
    );
    return results;
  }

  /** The receipts (WhatsApp's ids as ACS message ids, a new id for a refused recipient), or the error when every recipient was refused. */
  #receipts(resource: Resource, geo: GeoStore, channel: ChannelRecord, to: string[], results: RecipientResult[]): { receipts: SendAnswer['receipts']; failures: Failure[] } {
    const failures = results.flatMap((result, index) => ('failure' in result ? [{ index, failure: result.failure }] : []));
    for (const { failure } of failures) {
      this.deps.logger.warn('whatsapp.send_refused', { resourceId: resource.id, geography: geo.geography.key, status: failure.status, ...(failure.channelCode ? { code: failure.channelCode } : {}) });
    }
    if (failures.length === results.length) throw allFailed(failures);
    return { receipts: results.map((result, index) => ({ messageId: 'wamid' in result ? acsMessageId(channel.id, result.wamid) : randomUUID(), to: to[index]! })), failures };
  }

  /** A refused recipient's receipt is followed by its `failed` status event, as ACS reports an undelivered message. */
  async #reportFailures(resource: Resource, geo: GeoStore, channel: ChannelRecord, to: string[], sent: { receipts: SendAnswer['receipts']; failures: Failure[] }): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const events = sent.failures.map(({ index, failure }) =>
      deliveryStatusEvent(
        {
          messageId: sent.receipts[index]!.messageId,
          status: 'failed',
          channelType: 'whatsapp',
          from: channel.id,
          to: whatsAppUserId(to[index]!)!,
          receivedTimestamp: now,
          error: { channelCode: failure.channelCode ?? String(failure.status), channelMessage: failure.message },
        },
        `send-failed:${sent.receipts[index]!.messageId}`,
      ),
    );
    const subjects = sent.failures.map(({ index }) => phoneRawId(`+${whatsAppUserId(to[index]!)!}`));
    await this.deps.outboxFor(geo).commit({ resourceId: resource.id, eventSource: eventSource(resource.id), payloadMode: resource.eventPayloads, ops: [], events, subjects });
  }
}

/** Every recipient failed: one ACS error, the first retryable failure's if any (a retry may then succeed), else the first's. */
function allFailed(failures: Failure[]): ServiceError {
  const lead = failures.find((f) => isTransient(f.failure)) ?? failures[0]!;
  const details = failures.map(({ index, failure }) => ({ code: failure.channelCode ?? failure.code, message: failure.message, target: `to.${index}` }));
  const message = failures.length === 1 ? lead.failure.message : `No message was sent: WhatsApp refused all ${failures.length} recipients (${lead.failure.message})`;
  const headers = lead.failure.retryAfterSeconds !== undefined ? { 'retry-after': String(lead.failure.retryAfterSeconds) } : undefined;
  return new ServiceError(lead.failure.code, message, { target: `to.${lead.index}`, details, ...(headers ? { headers } : {}) });
}

function storedError(error: ServiceError): StoredError {
  const retryAfter = error.headers?.['retry-after'];
  return {
    code: error.code,
    message: maskNumbers(error.message),
    ...(error.target !== undefined ? { target: error.target } : {}),
    ...(error.details ? { details: error.details.map((d) => ({ ...d, message: maskNumbers(d.message) })) } : {}),
    ...(retryAfter !== undefined ? { retryAfterSeconds: Number(retryAfter) } : {}),
  };
}

/** The answer of the first request with this repeatability id, for the same body. */
function replay(outcome: SendOutcome, to: string[]): SendAnswer {
  if (outcome.status === 202 && outcome.messageIds) {
    return { receipts: outcome.messageIds.map((messageId, index) => ({ messageId, to: to[index]! })), repeatabilityResult: 'accepted' };
  }
  const stored = outcome.error;
  const code = (stored && stored.code in ERROR_STATUS ? stored.code : 'InternalError') as ErrorCode;
  const headers: Record<string, string> = { 'repeatability-result': 'accepted' };
  if (stored?.retryAfterSeconds !== undefined) headers['retry-after'] = String(stored.retryAfterSeconds);
  throw new ServiceError(code, stored?.message ?? 'The first request with this Repeatability-Request-ID failed.', {
    ...(stored?.target !== undefined ? { target: stored.target } : {}),
    ...(stored?.details ? { details: stored.details } : {}),
    headers,
  });
}

const withHeader = (error: ServiceError, name: string, value: string) =>
  new ServiceError(error.code, error.message, { ...(error.target !== undefined ? { target: error.target } : {}), ...(error.details ? { details: error.details } : {}), headers: { ...error.headers, [name]: value } });
