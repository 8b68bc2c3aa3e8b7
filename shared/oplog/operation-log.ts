import { randomBytes } from 'node:crypto';
import type { SqlParameter } from '@azure/cosmos';
import { deleteGrouped } from '../stores/cosmos-batch.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Operational logs: one record per API operation, in the resource's geography (container
 * `operationLogs`, partition `/resourceDay` = `{resourceId}|{UTC day}`), the equivalent of what ACS
 * sends to Azure Monitor. The people involved are kept as raw ids in `subjects`, so a data subject
 * request finds their records; the retention purge deletes records older than the resource's
 * `logDays`. Ids start with the time, so they sort by when the operation happened.
 */
export interface OperationLogRecord {
  id: string;
  resourceDay: string;
  resourceId: string;
  kind: 'operationLog';
  time: string;
  operation: string;
  method: string;
  status: number;
  durationMs: number;
  correlationId: string;
  /** Identities, phone numbers (raw ids) and e-mail addresses (lower case) the operation involved, at most MAX_SUBJECTS. */
  subjects: string[];
  /** E-mail delivery records (`DeliveryStatusUpdate`): the recipient's outcome; `status` is then the relay's reply code (0: none). */
  deliveryStatus?: string;
}

const MAX_SUBJECTS = 256;

export function operationLogRecord(fields: Omit<OperationLogRecord, 'id' | 'resourceDay' | 'kind'>): OperationLogRecord {
  const time = Date.parse(fields.time);
  return {
    id: `${time.toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`,
    resourceDay: `${fields.resourceId}|${fields.time.slice(0, 10)}`,
    kind: 'operationLog',
    ...fields,
    subjects: fields.subjects.slice(0, MAX_SUBJECTS),
  };
}

export class OperationLogs {
  async write(geo: GeoStore, record: OperationLogRecord): Promise<void> {
    await (await geo.container('operationLogs')).items.create(record);
  }

  /** Writes a record again, as it is now (the same id): an operation whose answer changed after its record was written. */
  async rewrite(geo: GeoStore, record: OperationLogRecord): Promise<void> {
    await (await geo.container('operationLogs')).items.upsert(record);
  }

  /** A page of a resource's records that involve one subject, oldest first, after the id `after`. */
  async pageForSubject(geo: GeoStore, resourceId: string, subject: string, page: { after?: string; limit: number }): Promise<OperationLogRecord[]> {
    const parameters: SqlParameter[] = [
      { name: '@rid', value: resourceId },
      { name: '@s', value: subject },
      { name: '@n', value: page.limit },
    ];
    if (page.after) parameters.push({ name: '@after', value: page.after });
    const container = await geo.container('operationLogs');
    const { resources } = await container.items
      .query<OperationLogRecord>({
        query: `SELECT TOP @n * FROM c WHERE c.resourceId = @rid AND c.kind = 'operationLog' AND ARRAY_CONTAINS(c.subjects, @s)${page.after ? ' AND c.id > @after' : ''} ORDER BY c.id`,
        parameters,
      })
      .fetchAll();
    return resources;
  }

  /** Deletes records, a day partition's in transactional batches of 100; what is gone is skipped. Returns how many went. */
  async deleteMany(geo: GeoStore, records: Pick<OperationLogRecord, 'id' | 'resourceDay'>[]): Promise<number> {
    return deleteGrouped(await geo.container('operationLogs'), records.map((r) => ({ id: r.id, partitionKey: r.resourceDay })));
  }

  /**
   * Deletes up to `maxItems` of a resource's records written before `before`, except those that
   * involve an identity under legal hold. Returns how many went and whether more are due.
   */
  async purgeOlderThan(geo: GeoStore, resourceId: string, before: Date, options: { heldIdentities: string[]; maxItems: number }): Promise<{ deleted: number; more: boolean }> {
    const held = options.heldIdentities.map((id, i) => ({ name: `@h${i}`, value: id }));
    const container = await geo.existingContainer('operationLogs');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<Pick<OperationLogRecord, 'id' | 'resourceDay'>>({
          query: `SELECT TOP @n c.id, c.resourceDay FROM c WHERE c.resourceId = @rid AND c.kind = 'operationLog' AND c.time < @before${held.map((h) => ` AND NOT ARRAY_CONTAINS(c.subjects, ${h.name})`).join('')}`,
          parameters: [{ name: '@rid', value: resourceId }, { name: '@before', value: before.toISOString() }, { name: '@n', value: options.maxItems + 1 }, ...held],
        })
        .fetchAll(),
    );
    const due = resources.slice(0, options.maxItems);
    const deleted = await deleteGrouped(container, due.map((r) => ({ id: r.id, partitionKey: r.resourceDay })));
    return { deleted, more: resources.length > options.maxItems };
  }
}
