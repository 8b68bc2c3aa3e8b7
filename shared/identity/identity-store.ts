import type { Container } from '@azure/cosmos';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Identities in their resource's geography, one item per identity (partitioned by id, so a point
 * read answers every token check). `tokenGeneration` grows with every revocation: a token carries the
 * generation it was issued under and is valid only while that is still the identity's generation.
 */
export interface IdentityRecord {
  id: string;
  resourceId: string;
  createdAt: string;
  tokenGeneration: number;
  tokensRevokedAt?: string;
  /** Set when deletion starts: from then on no token is issued or accepted, and the identity is erased. */
  deletingSince?: string;
  _etag?: string;
}

export class IdentityStore {
  constructor(private readonly geo: GeoStore) {}

  #container(): Promise<Container> {
    return this.geo.container('identities');
  }

  async create(record: IdentityRecord): Promise<void> {
    await (await this.#container()).items.create(record);
  }

  async get(id: string): Promise<IdentityRecord | undefined> {
    const { resource } = await (await this.#container()).item(id, id).read<IdentityRecord>();
    return resource;
  }

  /** Replaces if unchanged since read; false if another writer got there first. */
  async replace(record: IdentityRecord): Promise<boolean> {
    const { _etag, ...body } = record;
    try {
      await (await this.#container()).item(record.id, record.id).replace(body, _etag ? { accessCondition: { type: 'IfMatch', condition: _etag } } : {});
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 412) return false;
      throw error;
    }
  }

  async delete(id: string): Promise<boolean> {
    try {
      await (await this.#container()).item(id, id).delete();
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return false;
      throw error;
    }
  }
}
