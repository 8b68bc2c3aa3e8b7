import type { PrivacyRequestRecord } from './privacy-request.js';

/**
 * Proof of an erasure, kept in the resource's geography (container `erasureReceipts`, partition
 * `/resourceId`) until the resource is deleted: what was deleted per kind, what legal holds kept,
 * when, under which request. The subjects appear only as keyed hashes (privacy-subjects.ts).
 */
export interface ErasureReceipt {
  id: string;
  resourceId: string;
  kind: 'erasureReceipt';
  requestId: string;
  requestedAt: string;
  completedAt: string;
  subjects: string[];
  deleted: Record<string, number>;
  held: Record<string, number>;
  holdIds: string[];
}

export function erasureReceipt(request: PrivacyRequestRecord, completedAt: string): ErasureReceipt {
  const pick = (field: 'deleted' | 'held') =>
    Object.fromEntries(Object.entries(request.counts).filter(([, c]) => c[field] > 0).map(([kind, c]) => [kind, c[field]]));
  return {
    id: request.id,
    resourceId: request.resourceId,
    kind: 'erasureReceipt',
    requestId: request.id,
    requestedAt: request.createdAt,
    completedAt,
    subjects: request.subjectHashes,
    deleted: pick('deleted'),
    held: pick('held'),
    holdIds: request.holdIds,
  };
}

export function receiptView(receipt: ErasureReceipt): Record<string, unknown> {
  const { resourceId: _resourceId, kind: _kind, ...view } = receipt as ErasureReceipt & { _rid?: string };
  return Object.fromEntries(Object.entries(view).filter(([key]) => !key.startsWith('_')));
}
