import type { PrivacyRequestRecord } from '../privacy-request.js';
import { ignoreNotFound } from '../../stores/not-found.js';
import type { FoundItem, SubjectSource } from './subject-source.js';

/**
 * Results of earlier requests about the same people that are still downloadable (export bundles and
 * inventory listings hold their data), found by the subjects' keyed hashes.
 */
export const privacyResultSource: SubjectSource = {
  name: 'privacyResults',
  async page(ctx) {
    const container = await ctx.geo.container('privacyRequests');
    const found = new Map<string, Pick<PrivacyRequestRecord, 'id' | 'action' | 'result'>>();
    for (const hash of ctx.subjectHashes) {
      const { resources } = await container.items
        .query<Pick<PrivacyRequestRecord, 'id' | 'action' | 'result'>>(
          {
            query: "SELECT c.id, c.action, c.result FROM c WHERE c.resourceId = @rid AND c.kind = 'privacyRequest' AND ARRAY_CONTAINS(c.subjectHashes, @h) AND IS_STRING(c.result.blobName) AND c.id != @self",
            parameters: [
              { name: '@rid', value: ctx.resource.id },
              { name: '@h', value: hash },
              { name: '@self', value: ctx.requestId },
            ],
          },
          { partitionKey: ctx.resource.id },
        )
        .fetchAll();
      for (const r of resources) found.set(r.id, r);
    }
    const items: FoundItem[] = [...found.values()].map((r) => ({ kind: 'privacyResult', id: r.id, facts: { action: r.action }, ref: r.id }));
    return { items, next: null };
  },
  async erase(ctx, refs) {
    const requests = await ctx.geo.container('privacyRequests');
    const blobs = await ctx.geo.blobContainer('exports');
    for (const id of refs as string[]) {
      const { resource: request } = await requests.item(id, ctx.resource.id).read<PrivacyRequestRecord>();
      if (request?.result?.blobName) {
        await blobs.deleteBlob(request.result.blobName, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
        await requests.items.upsert({ ...request, result: { ...request.result, blobName: undefined, erasedBy: ctx.requestId } });
      }
    }
  },
};
