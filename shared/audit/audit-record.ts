import { stableId } from '../events/event-record.js';
import type { StoreOp } from '../events/outbox.js';

/**
 * What a purge or deletion removed, when and why, kept in the resource's geography (container
 * `auditRecords`, partition key `/resourceId`). No personal data: opaque ids, kinds, times, sizes and
 * reasons only. The id is derived from the action and subject, so a rerun writes the same record.
 */
export interface AuditRecord {
  id: string;
  resourceId: string;
  kind: 'audit';
  action: string;
  subjectType: string;
  subjectId: string;
  reason: string;
  at: string;
  details?: Record<string, string | number | boolean>;
}

export function auditRecord(fields: Omit<AuditRecord, 'id' | 'kind'>): AuditRecord {
  return { id: stableId('audit', fields.resourceId, fields.action, fields.subjectType, fields.subjectId), kind: 'audit', ...fields };
}

/** The outbox store operation that writes an audit record with the change it records. */
export function auditOp(record: AuditRecord): StoreOp {
  return { op: 'upsert', target: { plane: 'geo', container: 'auditRecords' }, partitionKey: record.resourceId, item: record };
}
