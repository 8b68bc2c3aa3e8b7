import type { Clock } from '../clock.js';
import { whatsAppApiBaseUrl } from '../config/whatsapp-settings.js';
import type { Settings } from '../config/settings.js';
import { ServiceError } from '../errors/service-error.js';
import type { Outbox } from '../events/outbox.js';
import type { OperationLogs } from '../oplog/operation-log.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { Logger } from '../telemetry/logger.js';
import { isVerifyToken, type ChannelRecord } from './channel.js';
import { ChannelStore } from './channel-store.js';
import { GraphClient } from './graph-client.js';
import { openMedia, type MediaStream } from './media-stream.js';
import { MessageRecords } from './message-records.js';
import { MessageSender, type SendAnswer, type SendRequest } from './message-send.js';
import { listTemplates, type TemplatePage, type templatesQuerySchema } from './templates.js';
import { WebhookInbound, type WebhookOutcome } from './webhook-inbound.js';
import { webhookPayloadSchema } from './webhook-payload.js';
import { hasValidSignature } from './webhook-signature.js';
import type * as z from 'zod';

/**
 * Advanced Messaging for WhatsApp as the app offers it: channels (management API), the Messages
 * API (send, media, templates) over the WhatsApp Business Cloud API, and WhatsApp's webhook. The
 * Graph client is created on first use.
 */
export interface WhatsAppService {
  channels: ChannelStore;
  send(resource: Resource, request: SendRequest): Promise<SendAnswer>;
  templates(resource: Resource, channelId: string, query: z.infer<typeof templatesQuerySchema>): Promise<TemplatePage>;
  media(resource: Resource, mediaId: string): Promise<MediaStream>;
  /** The webhook's verification handshake: the challenge to echo, or a 403. */
  handshake(resourceName: string, channelId: string, query: URLSearchParams): Promise<string>;
  /** A webhook notification: checked against the channel's app secret before anything is read. */
  receive(resourceName: string, channelId: string, rawBody: Buffer, signature: string | null): Promise<WebhookOutcome>;
  /** Removes expired dedupe marks and repeatability claims in every geography. */
  housekeeping(maxItems: number): Promise<number>;
  dispose(): void;
}

/** One answer for every webhook request that cannot be tied to a channel and its secret. */
const unauthorized = () => new ServiceError('Unauthorized', 'The request is not authorized.');
const forbidden = () => new ServiceError('Forbidden', 'The verification request was refused.');

export function createWhatsAppService(deps: {
  settings: Settings;
  stores: StoreDirectory;
  outboxFor: (geo: GeoStore) => Outbox;
  oplogs: OperationLogs;
  clock: Clock;
  logger: Logger;
  readSetting: (name: string) => string | undefined;
  resolveResource: (name: string) => Promise<Resource | undefined>;
}): WhatsAppService {
  let graph: GraphClient | undefined;
  const graphClient = () => (graph ??= new GraphClient({ timeoutMs: deps.settings.whatsApp.requestTimeoutMs }));
  const baseUrlFor = (geographyKey: string) => whatsAppApiBaseUrl(deps.settings.whatsApp, geographyKey);
  const records = new MessageRecords();
  const channels = new ChannelStore({ stores: deps.stores, clock: deps.clock, readSetting: deps.readSetting });
  const sender = new MessageSender({ stores: deps.stores, channels, graph: graphClient, baseUrlFor, records, outboxFor: deps.outboxFor, clock: deps.clock, logger: deps.logger, readSetting: deps.readSetting, hashKey: deps.settings.telemetryHashKey });
  const inbound = new WebhookInbound({ stores: deps.stores, records, outboxFor: deps.outboxFor, oplogs: deps.oplogs, clock: deps.clock, logger: deps.logger, dedupeHours: deps.settings.whatsApp.dedupeHours });

  const webhookChannel = async (resourceName: string, channelId: string): Promise<{ resource: Resource; channel: ChannelRecord } | undefined> => {
    const resource = await deps.resolveResource(resourceName);
    const channel = resource ? await channels.get(resource, channelId) : undefined;
    return resource && channel ? { resource, channel } : undefined;
  };

  return {
    channels,
    send: (resource, request) => sender.send(resource, request),
    async templates(resource, channelId, query) {
      const channel = await channels.require(resource, channelId, 'channelId');
      const token = deps.readSetting(channel.accessTokenSetting)?.trim();
      if (!token) throw new ServiceError('ServiceUnavailable', `The channel's access token is not available: the app setting ${channel.accessTokenSetting} is not set.`, { headers: { 'retry-after': '60' } });
      return listTemplates(graphClient(), baseUrlFor(resource.geographyKey), channel, token, query);
    },
    async media(resource, mediaId) {
      return openMedia(graphClient(), baseUrlFor(resource.geographyKey), await channels.list(resource), deps.readSetting, mediaId);
    },
    async handshake(resourceName, channelId, query) {
      const found = await webhookChannel(resourceName, channelId);
      const token = query.get('hub.verify_token');
      const challenge = query.get('hub.challenge');
      if (!found || query.get('hub.mode') !== 'subscribe' || token === null || !isVerifyToken(found.channel, token)) throw forbidden();
      if (challenge === null || !/^[\x21-\x7e]{1,256}$/.test(challenge)) throw new ServiceError('BadRequest', 'hub.challenge must be 1 to 256 printable characters.', { target: 'hub.challenge' });
      return challenge;
    },
    async receive(resourceName, channelId, rawBody, signature) {
      const found = await webhookChannel(resourceName, channelId);
      if (!found) throw unauthorized();
      const secret = deps.readSetting(found.channel.appSecretSetting)?.trim();
      if (!secret) {
        deps.logger.warn('whatsapp.webhook_secret_missing', { resourceId: found.resource.id, detail: `the app setting ${found.channel.appSecretSetting} is not set` });
        throw unauthorized();
      }
      if (!hasValidSignature(rawBody, signature, secret)) throw unauthorized();
      let json: unknown;
      try {
        json = JSON.parse(rawBody.toString('utf8'));
      } catch {
        throw new ServiceError('BadRequest', 'The notification is not JSON.');
      }
      const payload = webhookPayloadSchema.safeParse(json);
      if (!payload.success) throw new ServiceError('BadRequest', `The notification is not a WhatsApp Business Account notification (${payload.error.issues[0]?.path.join('.') || 'body'}).`);
      return inbound.handle(found.resource, found.channel, payload.data);
    },
    async housekeeping(maxItems) {
      let removed = 0;
      for (const geo of deps.stores.all()) {
        if (!geo.geography.whatsAppAdvancedMessaging) continue;
        removed += await records.removeExpired(geo, deps.clock, maxItems);
      }
      return removed;
    },
    dispose: () => graph?.dispose(),
  };
}
