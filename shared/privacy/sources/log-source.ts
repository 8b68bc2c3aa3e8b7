import type { OperationLogRecord } from '../../oplog/operation-log.js';
import { keyedPage } from './keyed-walk.js';
import { heldByIdentities, type SubjectSource } from './subject-source.js';

/** Operation log records that involve a subject; a record that also involves a held identity is kept. */
export const operationLogSource: SubjectSource = {
  name: 'operationLogs',
  section: 'operationLogs',
  async page(ctx, cursor) {
    const { records, next } = await keyedPage<OperationLogRecord>(
      ctx,
      cursor,
      (key, after, limit) => ctx.oplogs.pageForSubject(ctx.geo, ctx.resource.id, key, { ...(after ? { after } : {}), limit }),
      (r) => r.subjects,
    );
    const own = new Set(ctx.subjects.keys);
    return {
      items: records.map((r) => ({
        kind: 'operationLog' as const,
        id: r.id,
        heldBy: heldByIdentities(ctx.holds, r.subjects),
        view: {
          time: r.time,
          operation: r.operation,
          status: r.status,
          durationMs: r.durationMs,
          correlationId: r.correlationId,
          subjects: r.subjects.filter((s) => own.has(s)),
        },
        ref: { id: r.id, p: r.resourceDay },
      })),
      next,
    };
  },
  async erase(ctx, refs) {
    await ctx.oplogs.deleteMany(ctx.geo, (refs as { id: string; p: string }[]).map((r) => ({ id: r.id, resourceDay: r.p })));
  },
};
