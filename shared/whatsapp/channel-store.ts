import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import { GEOGRAPHIES, geographyByKey } from '../geography/geographies.js';
import type { Resource } from '../resources/resource.js';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { CHANNEL_ID_PATTERN, verifyTokenHash, type ChannelRecord, type PutChannelBody } from './channel.js';

/**
 * A resource's Advanced Messaging channels, kept in its geography (container `messageChannels`,
 * one partition per resource). WhatsApp is offered only in five geographies (the geography table
 * says which): registering a channel for a resource of another geography is refused, and nothing
 * is stored.
 */
export const WHATSAPP_GEOGRAPHY_NAMES = GEOGRAPHIES.filter((g) => g.whatsAppAdvancedMessaging).map((g) => g.name);

const listOf = (names: string[]) => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`);

export class ChannelStore {
  constructor(
    private readonly deps: {
      stores: StoreDirectory;
      clock: Clock;
      /** Reads an app setting by name (the channel's secrets are app settings). */
      readSetting: (name: string) => string | undefined;
    },
  ) {}

  /** Creates or replaces a channel; `created` tells which. */
  async put(resource: Resource, channelId: string, body: PutChannelBody): Promise<{ channel: ChannelRecord; created: boolean }> {
    const geography = geographyByKey(resource.geographyKey);
    if (!geography.whatsAppAdvancedMessaging) {
      throw new ServiceError(
        'BadRequest',
        `Advanced Messaging for WhatsApp is not offered in ${geography.name}, the geography of resource '${resource.name}'. It is offered only in ${listOf(WHATSAPP_GEOGRAPHY_NAMES)}; create the resource in one of them.`,
        { target: 'geography' },
      );
    }
    const id = this.#channelId(channelId);
    for (const [field, name] of [
      ['accessTokenSetting', body.accessTokenSetting],
      ['appSecretSetting', body.appSecretSetting],
    ] as const) {
      if (!this.deps.readSetting(name)?.trim()) throw new ServiceError('ValidationError', `The app setting ${name} (${field}) is not set: add it to the app's settings first.`, { target: field });
    }
    const existing = await this.get(resource, id);
    const others = (await this.list(resource)).filter((c) => c.id !== id && c.phoneNumberId === body.phoneNumberId);
    if (others.length > 0) throw new ServiceError('Conflict', `Channel ${others[0]!.id} of this resource already registers phone number id ${body.phoneNumberId}.`, { target: 'phoneNumberId' });
    const now = this.deps.clock.now().toISOString();
    const channel: ChannelRecord = {
      id,
      resourceId: resource.id,
      kind: 'whatsAppChannel',
      phoneNumberId: body.phoneNumberId,
      businessAccountId: body.businessAccountId,
      accessTokenSetting: body.accessTokenSetting,
      appSecretSetting: body.appSecretSetting,
      webhookVerifyTokenHash: verifyTokenHash(body.webhookVerifyToken),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    const container = await this.deps.stores.forResource(resource).container('messageChannels');
    await container.items.upsert(channel);
    return { channel, created: !existing };
  }

  /** The channel, or undefined (an id that is not a GUID is simply not found). */
  async get(resource: Resource, channelId: string): Promise<ChannelRecord | undefined> {
    if (!CHANNEL_ID_PATTERN.test(channelId)) return undefined;
    const container = await this.deps.stores.forResource(resource).existingContainer('messageChannels');
    try {
      const { resource: item } = await container.item(channelId.toLowerCase(), resource.id).read<ChannelRecord>();
      return item?.kind === 'whatsAppChannel' ? item : undefined;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** The channel, or a 404 naming what was looked for. */
  async require(resource: Resource, channelId: string, target: string): Promise<ChannelRecord> {
    const channel = await this.get(resource, channelId);
    if (!channel) throw new ServiceError('NotFound', `Channel registration '${channelId}' was not found for this resource.`, { target });
    return channel;
  }

  async list(resource: Resource): Promise<ChannelRecord[]> {
    const container = await this.deps.stores.forResource(resource).existingContainer('messageChannels');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<ChannelRecord>({ query: "SELECT * FROM c WHERE c.resourceId = @rid AND c.kind = 'whatsAppChannel' ORDER BY c.createdAt", parameters: [{ name: '@rid', value: resource.id }] }, { partitionKey: resource.id })
        .fetchAll(),
    );
    return resources;
  }

  /** Removes a channel; true if there was one. */
  async delete(resource: Resource, channelId: string): Promise<boolean> {
    if (!CHANNEL_ID_PATTERN.test(channelId)) return false;
    const container = await this.deps.stores.forResource(resource).existingContainer('messageChannels');
    return deleteIfExists(container, channelId.toLowerCase(), resource.id);
  }

  #channelId(channelId: string): string {
    if (!CHANNEL_ID_PATTERN.test(channelId)) throw new ServiceError('ValidationError', `The channel id '${channelId}' must be a GUID (the channel registration id).`, { target: 'channelId' });
    return channelId.toLowerCase();
  }
}
