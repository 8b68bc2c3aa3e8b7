import type { Container } from '@azure/cosmos';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';

/**
 * Where an outbox entry is stored. Most entries are in the geography's `outbox` container, in their
 * resource's partition. A change whose operations all write one chat thread's partition (a chat send)
 * has its entry in that partition of `chatThreads` instead (`kind: 'outboxEntry'`), created in the
 * same transactional batch as the operations: one store request writes the change and its events,
 * and the entry is born applied. It is deleted once its events are published (no delivery record is
 * kept of it); until then it is finished, found and erased as the outbox's entries are.
 */
export interface EntryHome {
  container: 'outbox' | 'chatThreads';
  partitionKey: string;
}

/** The kind an entry kept in a chat thread's partition has, among the thread's items. */
export const THREAD_ENTRY_KIND = 'outboxEntry';

export function homeOf(entry: { resourceId: string; threadId?: string }): EntryHome {
  return entry.threadId !== undefined ? threadHome(entry.threadId) : { container: 'outbox', partitionKey: entry.resourceId };
}

/** The home of the entries kept in a thread's partition. */
export function threadHome(threadId: string): EntryHome {
  return { container: 'chatThreads', partitionKey: threadId };
}

export function homeKey(home: EntryHome): string {
  return `${home.container}/${home.partitionKey}`;
}

/** Where an entry is: enough to read it (a work item, a privacy reference). */
export interface EntryRef {
  id: string;
  resourceId: string;
  threadId?: string;
}

/**
 * A query over the geography's entries, in both homes: `where` is the condition (on `c`), `select`
 * the fields (the partition key fields are added), in the outbox container and, for the entries in
 * thread partitions, across them. `top` bounds each of the two; `orderBy` orders each. A missing
 * container has none.
 */
export async function queryEntries<T>(
  geo: GeoStore,
  query: { select: string; where: string; orderBy?: string; top: number; parameters: { name: string; value: string | number }[] },
): Promise<(T & EntryRef)[]> {
  const fields = query.select === '*' ? '*' : `${query.select}, c.id, c.resourceId, c.threadId`;
  const text = (extra: string) =>
    `SELECT TOP @max ${fields} FROM c WHERE ${extra}${query.where}${query.orderBy ? ` ORDER BY ${query.orderBy}` : ''}`;
  const parameters = [{ name: '@max', value: query.top }, ...query.parameters];
  const run = async (container: Container, extra: string) =>
    (await emptyIfMissing(() => container.items.query<T & EntryRef>({ query: text(extra), parameters }).fetchAll())).resources;
  const [outbox, threads] = await Promise.all([geo.existingContainer('outbox'), geo.existingContainer('chatThreads')]);
  const [inOutbox, inThreads] = await Promise.all([run(outbox, ''), run(threads, `c.kind = "${THREAD_ENTRY_KIND}" AND `)]);
  // The outbox's rows carry no threadId (undefined in the projection): dropped, so homeOf reads them right.
  return [...inOutbox.map(({ threadId: _none, ...row }) => row as T & EntryRef), ...inThreads];
}
