import type { OutboxEntry } from '../../events/outbox.js';
import { deleteInPartition } from '../../stores/cosmos-batch.js';
import { itemsNaming, keyedPage } from './keyed-walk.js';
import type { FoundItem, SubjectSource } from './subject-source.js';

type EntrySummary = Pick<OutboxEntry, 'id' | 'status' | 'subjects'> & { eventCount: number };

/**
 * Outbox entries whose events or recipients name a subject. A published entry is only a delivery
 * record and is erased; an unpublished one is kept until its events are out (events are never
 * dropped), and a delete waits for it. Events already delivered are in the subscribers' hands.
 */
export const outboxSource: SubjectSource = {
  name: 'outboxEvents',
  async page(ctx, cursor) {
    const container = await ctx.geo.container('outbox');
    const { records, next } = await keyedPage<EntrySummary>(
      ctx,
      cursor,
      (key, after, limit) =>
        itemsNaming<EntrySummary>(container, ctx.resource.id, { select: 'c.id, c.status, c.subjects, ARRAY_LENGTH(c.events) AS eventCount', field: 'subjects' }, key, after, limit),
      (r) => r.subjects ?? [],
    );
    const erasing = ctx.action === 'delete';
    const items: FoundItem[] = records
      .filter((r) => !erasing || r.status === 'published')
      .map((r) => ({ kind: 'outboxEntry', id: r.id, facts: { status: r.status, events: r.eventCount }, ref: r.id }));
    return { items, next, waiting: erasing ? records.length - items.length : 0 };
  },
  async erase(ctx, refs) {
    await deleteInPartition(await ctx.geo.container('outbox'), ctx.resource.id, refs as string[]);
  },
};
