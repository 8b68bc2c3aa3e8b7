import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import type { StoreOp } from '../events/outbox.js';
import { deleteExpired } from '../stores/expired-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * What Advanced Messaging keeps for a while in the resource's geography (container
 * `messageRecords`, partition `/resourceId`). Neither kind holds message content or a phone
 * number, so neither names a person:
 * - `whatsAppWebhookSeen`: a webhook message or status already turned into its event, named by a
 *   hash of the channel, WhatsApp's id (a `wamid` encodes the user's number, so it is not kept) and
 *   the status; kept `WHATSAPP_DEDUPE_HOURS` (WhatsApp redelivers for up to 7 days);
 * - `messagesRepeatability`: a send under a `Repeatability-Request-ID`, with a keyed hash of its
 *   body and its outcome (status, the receipts' message ids in the order of `to`, or the error with
 *   any long digit run masked), for REPEATABILITY_HOURS.
 * The `whatsAppHousekeeping` timer removes expired records.
 */
export const REPEATABILITY_HOURS = 24;

export interface SeenRecord {
  id: string;
  resourceId: string;
  kind: 'whatsAppWebhookSeen';
  seenAt: string;
  expiresAt: string;
}

export interface StoredError {
  code: string;
  message: string;
  target?: string;
  details?: { code: string; message: string; target?: string }[];
  retryAfterSeconds?: number;
}

export interface SendOutcome {
  status: number;
  /** Message ids of the receipts, in the order of the request's `to` (202). */
  messageIds?: string[];
  error?: StoredError;
}

export interface RepeatabilityRecord {
  id: string;
  resourceId: string;
  kind: 'messagesRepeatability';
  bodyHash: string;
  firstSent: string;
  createdAt: string;
  outcome?: SendOutcome;
  expiresAt: string;
}

const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 48);

export const seenId = (resourceId: string, channelId: string, key: string) => `seen-${hash(resourceId, channelId, key)}`;
export const repeatabilityRecordId = (resourceId: string, requestId: string) => `repeatability-${hash(resourceId, requestId)}`;

export function seenRecord(resourceId: string, channelId: string, key: string, now: Date, hours: number): SeenRecord {
  return { id: seenId(resourceId, channelId, key), resourceId, kind: 'whatsAppWebhookSeen', seenAt: now.toISOString(), expiresAt: new Date(now.getTime() + hours * 3_600_000).toISOString() };
}

export const upsertSeenOp = (record: SeenRecord): StoreOp => ({ op: 'upsert', target: { plane: 'geo', container: 'messageRecords' }, partitionKey: record.resourceId, item: record });

/** Masks digit runs long enough to be a phone number, so a stored error names nobody. */
export const maskNumbers = (text: string) => text.replace(/\+?\d{7,}/g, '***');

export class MessageRecords {
  container(geo: GeoStore): Promise<Container> {
    return geo.container('messageRecords');
  }

  async read<T>(geo: GeoStore, resourceId: string, id: string): Promise<(T & { _etag?: string }) | undefined> {
    try {
      const { resource } = await (await geo.existingContainer('messageRecords')).item(id, resourceId).read<T & { _etag?: string }>();
      return resource;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async seen(geo: GeoStore, resourceId: string, channelId: string, key: string, now: Date): Promise<boolean> {
    const record = await this.read<SeenRecord>(geo, resourceId, seenId(resourceId, channelId, key));
    return record !== undefined && record.expiresAt > now.toISOString();
  }

  /** Removes expired records of a geography, at most `maxItems`; returns how many went. */
  async removeExpired(geo: GeoStore, clock: Clock, maxItems: number): Promise<number> {
    return (await deleteExpired(await geo.existingContainer('messageRecords'), clock.now(), maxItems)).deleted;
  }
}
