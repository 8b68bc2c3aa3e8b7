import type { OutboxEntry } from '../../events/outbox.js';
import { THREAD_ENTRY_KIND } from '../../events/entry-home.js';
import { deleteInPartition } from '../../stores/cosmos-batch.js';
import type { Cursor } from '../privacy-request.js';
import { itemsNaming, keyedPage } from './keyed-walk.js';
import type { FoundItem, PrivacyContext, SourcePage, SubjectSource } from './subject-source.js';

type EntrySummary = Pick<OutboxEntry, 'id' | 'status' | 'subjects'> & { eventCount: number };

const SELECT = 'c.id, c.status, c.subjects, ARRAY_LENGTH(c.events) AS eventCount';

/**
 * Outbox entries whose events or recipients name a subject: the outbox container's, then those kept
 * in chat threads' partitions (a send's, shared/events/entry-home.ts; cursor `t: 1`). A published
 * entry is only a delivery record and is erased; an unpublished one is kept until its events are out
 * (events are never dropped), and a delete waits for it. An entry in a thread's partition is never a
 * published one (it is deleted once published), so a delete always waits for it. Events already
 * delivered are in the subscribers' hands.
 */
export const outboxSource: SubjectSource = {
  name: 'outboxEvents',
  async page(ctx, cursor) {
    const inThreads = (cursor as { t?: number } | null)?.t === 1;
    if (!inThreads) {
      const container = await ctx.geo.container('outbox');
      const { records, next } = await keyedPage<EntrySummary>(
        ctx,
        cursor,
        (key, after, limit) => itemsNaming<EntrySummary>(container, ctx.resource.id, { select: SELECT, field: 'subjects' }, key, after, limit),
        (r) => r.subjects ?? [],
      );
      // keyedPage answers no next page only once every key is walked (and then no records): the
      // thread partitions' entries are next, in this same call.
      if (next !== null) return found(ctx, records, next);
    }
    const threads = await ctx.geo.container('chatThreads');
    const { records, next } = await keyedPage<EntrySummary>(
      ctx,
      inThreads ? cursor : null,
      (key, after, limit) =>
        itemsNaming<EntrySummary>(threads, ctx.resource.id, { select: SELECT, field: 'subjects', filter: `c.kind = "${THREAD_ENTRY_KIND}"`, acrossPartitions: true }, key, after, limit),
      (r) => r.subjects ?? [],
    );
    return found(ctx, records, next && { ...next, t: 1 });
  },
  async erase(ctx, refs) {
    // Published entries only: all in the outbox.
    await deleteInPartition(await ctx.geo.container('outbox'), ctx.resource.id, refs as string[]);
  },
};

function found(ctx: PrivacyContext, records: EntrySummary[], next: Cursor | null): SourcePage {
  const erasing = ctx.action === 'delete';
  const items: FoundItem[] = records
    .filter((r) => !erasing || r.status === 'published')
    .map((r) => ({ kind: 'outboxEntry', id: r.id, facts: { status: r.status, events: r.eventCount }, ref: r.id }));
  return { items, next, waiting: erasing ? records.length - items.length : 0 };
}
