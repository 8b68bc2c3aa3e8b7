import type { Container } from '@azure/cosmos';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
import { deleteExpired } from '../stores/expired-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { EmailOperationRecord } from './email-operation.js';

/** Reads and writes of a geography's send operations (see email-operation.ts). */
export class EmailOperationStore {
  constructor(private readonly geo: GeoStore) {}

  #container(): Promise<Container> {
    return this.geo.container('emailOperations');
  }

  /** Creates the operation; false when one with its id exists already. */
  async create(record: EmailOperationRecord): Promise<boolean> {
    try {
      await (await this.#container()).items.create(record);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 409) return false;
      throw error;
    }
  }

  async read(resourceId: string, id: string): Promise<EmailOperationRecord | undefined> {
    const { resource } = await (await this.#container()).item(id, resourceId).read<EmailOperationRecord>();
    return resource && resource.kind === 'emailOperation' ? resource : undefined;
  }

  /** Replaces the operation if nobody wrote it since it was read; undefined if someone did. */
  async replace(record: EmailOperationRecord): Promise<EmailOperationRecord | undefined> {
    const { _etag, ...body } = record;
    const clean = Object.fromEntries(Object.entries(body).filter(([key]) => !key.startsWith('_')));
    try {
      const { resource } = await (await this.#container())
        .item(record.id, record.resourceId)
        .replace<EmailOperationRecord>(clean as unknown as EmailOperationRecord, _etag ? { accessCondition: { type: 'IfMatch', condition: _etag } } : {});
      return resource;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 412 || code === 404) return undefined;
      throw error;
    }
  }

  delete(resourceId: string, id: string): Promise<boolean> {
    return this.#container().then((c) => deleteIfExists(c, id, resourceId));
  }

  /** Operations of the geography whose next attempt is due (stranded, retrying, or whose worker's lease ran out), oldest first. */
  async due(now: Date, max: number): Promise<Pick<EmailOperationRecord, 'id' | 'resourceId'>[]> {
    const container = await this.geo.existingContainer('emailOperations');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<Pick<EmailOperationRecord, 'id' | 'resourceId'>>({
          query: "SELECT TOP @n c.id, c.resourceId FROM c WHERE c.kind = 'emailOperation' AND c.nextAttemptAt <= @now ORDER BY c.nextAttemptAt",
          parameters: [
            { name: '@n', value: max },
            { name: '@now', value: now.toISOString() },
          ],
        })
        .fetchAll(),
    );
    return resources;
  }

  /** Deletes up to `max` of a resource's finished operations past their expiry; whether more are due. */
  async purgeExpired(resourceId: string, now: Date, max: number): Promise<{ deleted: number; more: boolean }> {
    return deleteExpired(await this.geo.existingContainer('emailOperations'), now, max, { resourceId, kind: 'emailOperation' });
  }
}
