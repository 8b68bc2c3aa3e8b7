import { randomUUID } from 'node:crypto';
import type { Container, Item, JSONObject, OperationInput, PatchOperation } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import { deleteGrouped, MAX_BATCH_OPERATIONS, runBatch } from '../stores/cosmos-batch.js';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
import type { Logger } from '../telemetry/logger.js';
import type { ControlStore } from '../stores/control-store.js';
import type { GeoStore } from '../stores/geo-store.js';
import { collectSubjectIds } from '../oplog/subject-ids.js';
import type { EventPublisher } from './event-publisher.js';
import { toEventRecord, type EventDraft, type EventPayloadMode, type EventRecord } from './event-record.js';
import { markPublished, publishRemaining, writeProgress } from './outbox-publishing.js';
import { homeOf, queryEntries, THREAD_ENTRY_KIND, threadHome, type EntryRef } from './entry-home.js';
import { ChangeApplier } from './change-applier.js';
import { PublishedMarks } from './published-marks.js';
import { batchOperation, MAX_BATCH_BYTES, opBytes, type ChangeStamp, type StoreOp } from './store-ops.js';

/**
 * The per-geography outbox: a domain change (a list of store operations) and its events are first
 * written together as one outbox entry, in the geography, in one item write (atomic on every Cosmos,
 * the emulator included). Then the operations are applied and the events published. If anything
 * fails half-way, the entry stays and the republisher finishes it: it re-applies the operations
 * (each is idempotent and never overwrites a newer change) and publishes the events with the same
 * ids. So a change ends in either the old state or the new, and its events are never dropped.
 * Publishing is bounded in time and resumable: see outbox-publishing.ts.
 *
 * Consecutive operations on one partition of one container are applied as one transactional batch
 * (one store request per 100 operations); if the batch fails (an item already gone, a condition that
 * no longer holds), Cosmos has applied none of it and they are applied one by one; if its outcome is
 * unknown (the request itself failed), one by one as a redo. Consecutive unconditional single writes
 * to one container, each in a partition of its own (a thread's memberships), go side by side
 * (change-applier.ts, apply-steps.ts).
 *
 * A change whose operations all write one chat thread's partition has its entry there instead,
 * created in the same transactional batch as the operations, and deleted once published
 * (entry-home.ts, ChangeSet.entryInThread).
 */
export type { ChangeStamp, StoreOp, StoreTarget } from './store-ops.js';

export type OutboxStatus = 'pending' | 'applied' | 'published';

export interface OutboxEntry {
  id: string;
  resourceId: string;
  /** For an entry kept in a chat thread's partition (entry-home.ts): the thread, and its kind there. */
  threadId?: string;
  kind?: typeof THREAD_ENTRY_KIND;
  status: OutboxStatus;
  createdAt: string;
  ops: StoreOp[];
  events: EventRecord[];
  /** Who the per-recipient events of this change go to. */
  recipients?: string[];
  /** Every person (raw id) the events or recipients name: what a data subject request finds the entry by. */
  subjects?: string[];
  /**
   * How many of the expanded events (in the order of `eventsToPublish`) the topic has accepted, kept
   * while a publish in several batches is under way, so a later attempt sends only the rest.
   */
  publishedCount?: number;
  attempts: number;
  nextAttemptAt: string;
  publishedAt?: string;
  lastError?: string;
}

export interface ChangeSet {
  resourceId: string;
  eventSource: string;
  payloadMode: EventPayloadMode;
  ops: StoreOp[];
  events: EventDraft[];
  /** Recipients of the change's per-recipient events (see EventRecord.perRecipient). */
  recipients?: string[];
  /** Optional stable id (e.g. derived from a repeatability id or from what a purge removed). */
  changeId?: string;
  /**
   * People the change names that are not raw ids in its events or recipients (SMS events carry E.164
   * numbers, given here as raw ids; e-mail addresses, in lower case): added to the entry's `subjects`,
   * so a data subject request finds it.
   */
  subjects?: string[];
  /**
   * Record the publication later (published-marks.ts): the commit returns once the events are
   * published, and the entry's mark is written with the next change of its partition, or after
   * OutboxDeps.markDelayMs. For changes where the latency saved matters (a chat send).
   */
  markPublishedLater?: boolean;
  /**
   * The chat thread whose partition every operation of the change writes (a chat send): the entry is
   * then created in that partition, in one transactional batch with the operations (entry-home.ts),
   * one store request for both. A change that does not fit one batch is committed as any other.
   */
  entryInThread?: string;
}

export interface OutboxDeps {
  geo: GeoStore;
  control: ControlStore;
  publisher: EventPublisher;
  clock: Clock;
  logger: Logger;
  publishTimeoutMs: number;
  /** How long a deferred publication mark waits for the next change of its resource (100 ms when absent). */
  markDelayMs?: number;
}

const MAX_BACKOFF_MS = 10 * 60 * 1000;

/**
 * How long a pending entry is taken to be in its committer's hands: a duplicate commit or the
 * republisher leaves its publishing to that committer until then.
 */
export const OUTBOX_IN_FLIGHT_GRACE_MS = 60_000;

export function backoffMs(attempts: number): number {
  return Math.min(MAX_BACKOFF_MS, 5_000 * 2 ** Math.max(0, attempts - 1));
}

export class Outbox {
  readonly #marks: PublishedMarks;
  readonly #applier: ChangeApplier;

  constructor(private readonly deps: OutboxDeps) {
    this.#applier = new ChangeApplier(deps);
    this.#marks = new PublishedMarks({ container: (name) => deps.geo.container(name), logger: deps.logger, geographyKey: deps.geo.geography.key, delayMs: deps.markDelayMs ?? 100 });
  }

  /**
   * Writes the publication marks still waiting (see ChangeSet.markPublishedLater); with `threadId`,
   * only those of the entries in that thread's partition (deleting them: entry-home.ts).
   */
  flushMarks(threadId?: string): Promise<void> {
    return this.#marks.flush(threadId === undefined ? undefined : threadHome(threadId));
  }

  /**
   * Writes the change and its events, applies the change, then tries to publish. Returns the
   * events as recorded. A publish failure is not the caller's failure: the events wait in the
   * outbox for the republisher.
   */
  async commit(change: ChangeSet): Promise<EventRecord[]> {
    const { events, published } = await this.commitBeside(change);
    await published;
    return events;
  }

  /**
   * As `commit`, but answers once the change is applied, its publication still under way: `published`
   * settles once the events are published or their failure recorded (it rejects only when that record
   * cannot be written, as `commit` would). For a request with more to do meanwhile (a chat send's
   * post-write check and log record), which must await `published` before it answers.
   */
  async commitBeside(change: ChangeSet): Promise<{ events: EventRecord[]; published: Promise<void> }> {
    const now = this.deps.clock.now();
    const entryId = change.changeId ?? randomUUID();
    const events = change.events.map((draft, index) =>
      toEventRecord(draft, { changeId: entryId, index, source: change.eventSource, mode: change.payloadMode, now }),
    );
    const entry: OutboxEntry = {
      id: entryId,
      resourceId: change.resourceId,
      status: 'pending',
      createdAt: now.toISOString(),
      ops: change.ops,
      events,
      ...(change.recipients ? { recipients: change.recipients } : {}),
      subjects: [...collectSubjectIds({ recipients: change.recipients, events: change.events.map((e) => ({ subject: e.subject, data: e.data })) }, new Set(change.subjects))],
      attempts: 0,
      nextAttemptAt: now.toISOString(),
    };
    const markLater = change.markPublishedLater === true;
    if (change.entryInThread !== undefined) {
      const inThread = await this.#commitInThread(entry, change.entryInThread, markLater);
      if (inThread) return { events: inThread.events ?? events, published: inThread.published };
    }
    const outbox = await this.deps.geo.container('outbox');
    try {
      await this.#create(outbox, entry);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      // The same change (a stable id) was committed before: finish that one instead of repeating it.
      return { events: await this.#finishExisting({ id: entryId, resourceId: change.resourceId }), published: Promise.resolve() };
    }
    await this.#applier.apply(entry, false);
    return { events, published: this.#publishing(entry, markLater) };
  }

  /** The entry's publication, started: settles as `commitBeside` says. */
  #publishing(entry: OutboxEntry, markLater: boolean): Promise<void> {
    const published = this.#settle(entry, markLater).then(() => undefined);
    // Its caller awaits it; until then a rejection is not an unhandled one.
    published.catch(() => undefined);
    return published;
  }

  /**
   * Commits a change whose operations all write one thread's partition with its entry in that
   * partition: one transactional batch creates the entry (applied from the start, its operations not
   * kept) with the marks waiting there, and applies the operations. Answers undefined when that batch
   * was not applied (it does not fit one batch, or was refused, or failed and nothing of it is there):
   * the caller commits the change the usual way. A change committed before (its id is there) is finished as in `commit`.
   */
  async #commitInThread(entry: OutboxEntry, threadId: string, markLater: boolean): Promise<{ events?: EventRecord[]; published: Promise<void> } | undefined> {
    const fits = entry.ops.length < MAX_BATCH_OPERATIONS && entry.ops.every((op) => op.target.plane === 'geo' && op.target.container === 'chatThreads' && op.partitionKey === threadId);
    if (!fits) return undefined;
    const stamp: ChangeStamp = { id: entry.id, at: entry.createdAt };
    const operations = entry.ops.map((op) => batchOperation(op, stamp));
    const stored: OutboxEntry = {
      ...entry,
      threadId,
      kind: THREAD_ENTRY_KIND,
      status: 'applied',
      ops: [],
      // Left to its committer for the grace, as a pending entry is: the republisher looks after that.
      nextAttemptAt: new Date(Date.parse(entry.createdAt) + OUTBOX_IN_FLIGHT_GRACE_MS).toISOString(),
    };
    const create: OperationInput = { operationType: 'Create', resourceBody: stored as unknown as JSONObject };
    if (JSON.stringify(stored).length + opBytes(entry.ops) > MAX_BATCH_BYTES) return undefined;
    const home = homeOf(stored);
    const marks = this.#marks.take(home, MAX_BATCH_OPERATIONS - 1 - operations.length, entry.id);
    const threads = await this.deps.geo.container('chatThreads');
    let outcome = marks.length > 0 ? await this.#marks.writeBatch(home, marks, [create, ...operations]) : await runBatch(threads, threadId, [create, ...operations]);
    // Refused with marks: one of theirs may be the cause (an entry gone meanwhile); they are written apart now.
    if (outcome === 'refused' && marks.length > 0) outcome = await runBatch(threads, threadId, [create, ...operations]);
    if (outcome !== 'applied') {
      const { resource: found } = await threads.item(entry.id, threadId).read<OutboxEntry>();
      // Unknown, and applied after all: the entry as this commit wrote it (same creation time). Refused: nothing of it was.
      const ours = outcome === 'unknown' && found?.createdAt === entry.createdAt;
      if (!ours) {
        if (!found) return undefined;
        // The same change (a stable id) committed before: finished, not repeated.
        return { events: await this.#finishExisting(found), published: Promise.resolve() };
      }
    }
    Object.assign(entry, stored);
    return { published: this.#publishing(entry, markLater) };
  }

  /**
   * Writes a new entry, in one transactional batch with the publication marks its resource's earlier
   * changes left, if any (see PublishedMarks): so every change of a resource records those at no store
   * request more. Throws the create's error (409 for an id committed before).
   */
  async #create(outbox: Container, entry: OutboxEntry): Promise<void> {
    const marks = this.#marks.take(homeOf(entry));
    if (marks.length === 0) {
      await outbox.items.create(entry);
      return;
    }
    const outcome = await this.#marks.writeBatch(homeOf(entry), marks, [{ operationType: 'Create', resourceBody: entry as unknown as JSONObject }]);
    if (outcome === 'applied') return;
    if (outcome === 'unknown') {
      // The batch may have been applied: the entry as written by this commit (same creation time) is ours.
      const { resource: stored } = await outbox.item(entry.id, entry.resourceId).read<OutboxEntry>();
      if (stored?.createdAt === entry.createdAt) return;
      if (stored) throw Object.assign(new Error(`Outbox entry ${entry.id} was committed before`), { code: 409 });
    }
    // Refused, or not applied: nothing of the batch was written (the marks have been written apart).
    await outbox.items.create(entry);
  }

  async #finishExisting(ref: EntryRef): Promise<EventRecord[]> {
    const existing = await this.#read(ref);
    if (!existing) throw new Error(`Outbox entry ${ref.id} vanished while being finished`);
    const young = this.deps.clock.now().getTime() - Date.parse(existing.createdAt) < OUTBOX_IN_FLIGHT_GRACE_MS;
    // An entry in a thread is born applied, and is in its committer's hands until its first failure.
    const inFlight = young && (existing.status === 'pending' || (existing.threadId !== undefined && existing.status === 'applied' && existing.attempts === 0));
    if (inFlight) {
      // A concurrent duplicate: its first committer is still at work and publishes the events, so
      // publishing here would send them twice. Applying (idempotent) is enough for this caller.
      await this.#applier.apply(existing, true);
    } else if (existing.status !== 'published') {
      await this.#finish(existing);
    }
    return existing.events;
  }

  async #read(ref: EntryRef): Promise<OutboxEntry | undefined> {
    const home = homeOf(ref);
    return (await (await this.deps.geo.existingContainer(home.container)).item(ref.id, home.partitionKey).read<OutboxEntry>()).resource;
  }

  /** The entry's item, in its home. */
  async #item(entry: EntryRef): Promise<Item> {
    const home = homeOf(entry);
    return (await this.deps.geo.container(home.container)).item(entry.id, home.partitionKey);
  }

  /**
   * Finishes entries that are due: re-applies pending ones older than `graceMs` (a request may still
   * be applying younger ones) and publishes applied ones. Bounded by `maxEntries`.
   */
  async drain(options: { graceMs: number; maxEntries: number }): Promise<{ examined: number; published: number; failed: number }> {
    const now = this.deps.clock.now();
    const resources = await queryEntries<OutboxEntry>(this.deps.geo, {
      select: '*',
      where: 'c.status != "published" AND c.nextAttemptAt <= @now',
      orderBy: 'c.nextAttemptAt',
      top: options.maxEntries,
      parameters: [{ name: '@now', value: now.toISOString() }],
    });
    let published = 0;
    let failed = 0;
    for (const entry of resources) {
      if (entry.status === 'pending' && now.getTime() - Date.parse(entry.createdAt) < options.graceMs) continue;
      if (await this.#finish(entry)) published += 1;
      else failed += 1;
    }
    return { examined: resources.length, published, failed };
  }

  /** Finishes one entry a republish work item names, if it is still unfinished. True once it is published (or gone). */
  async republish(ref: EntryRef): Promise<boolean> {
    const entry = await this.#read(ref);
    return !entry || entry.status === 'published' || this.#finish(entry);
  }

  /**
   * Deletes published entries older than the retention period, a bounded number per call (those in
   * threads' partitions are deleted once published: they are never kept as delivery records).
   */
  async prunePublished(olderThan: Date, max: number): Promise<number> {
    const outbox = await this.deps.geo.existingContainer('outbox');
    const { resources } = await emptyIfMissing(() => outbox.items
      .query<{ id: string; resourceId: string }>({
        query: 'SELECT TOP @max c.id, c.resourceId FROM c WHERE c.status = "published" AND c.publishedAt < @before',
        parameters: [
          { name: '@max', value: max },
          { name: '@before', value: olderThan.toISOString() },
        ],
      })
      .fetchAll());
    await deleteGrouped(outbox, resources.map(({ id, resourceId }) => ({ id, partitionKey: resourceId })));
    return resources.length;
  }

  /** Finishes an entry left unfinished: re-applies a pending one (a redo), then settles it. True once published. */
  async #finish(entry: OutboxEntry): Promise<boolean> {
    if (entry.status === 'pending') {
      try {
        await this.#applier.apply(entry, true);
      } catch (error) {
        await this.#recordFailure(entry, error, []);
        return false;
      }
    }
    return this.#settle(entry);
  }

  /**
   * Publishes the events of an applied change and records the outcome in one write: published, or
   * applied with the time of the next attempt. The operations (which may carry content, such as
   * message text) are dropped either way, since they are applied. With `markLater`, a publication is
   * recorded later (PublishedMarks); a failure at once, as always.
   */
  async #settle(entry: OutboxEntry, markLater = false): Promise<boolean> {
    entry.ops = [];
    try {
      await publishRemaining(entry, {
        publisher: this.deps.publisher,
        geographyKey: this.deps.geo.geography.key,
        timeoutMs: this.deps.publishTimeoutMs,
        recordProgress: async (count) => writeProgress(await this.#item(entry), entry, count, this.deps.logger),
      });
    } catch (error) {
      entry.status = 'applied';
      await this.#recordFailure(entry, error, [
        { op: 'set', path: '/status', value: 'applied' },
        { op: 'set', path: '/ops', value: [] },
      ]);
      return false;
    }
    // An entry in a thread's partition is deleted once published (it is no delivery record); the outbox's is marked so.
    const home = homeOf(entry);
    const inThread = home.container === 'chatThreads';
    const operations = inThread ? 'delete' : markPublished(entry, this.deps.clock.now());
    entry.status = 'published';
    if (markLater) this.#marks.add({ id: entry.id, resourceId: entry.resourceId, ...(inThread ? { threadId: entry.threadId } : {}), operations });
    else if (operations === 'delete') await deleteIfExists(await this.deps.geo.container(home.container), entry.id, home.partitionKey);
    else await (await this.#item(entry)).patch(operations);
    return true;
  }

  /** Records a failed attempt (with `also`, other fields to set in the same write) and backs off. */
  async #recordFailure(entry: OutboxEntry, error: unknown, also: PatchOperation[]): Promise<void> {
    entry.attempts += 1;
    const detail = error instanceof Error ? error.message : String(error);
    const nextAttemptAt = new Date(this.deps.clock.now().getTime() + backoffMs(entry.attempts)).toISOString();
    this.deps.logger.warn('outbox.attempt_failed', {
      resourceId: entry.resourceId,
      geography: this.deps.geo.geography.key,
      count: entry.events.length,
      detail,
    });
    try {
      await (await this.#item(entry)).patch([
        ...also,
        { op: 'set', path: '/attempts', value: entry.attempts },
        { op: 'set', path: '/nextAttemptAt', value: nextAttemptAt },
        { op: 'set', path: '/lastError', value: detail.slice(0, 300) },
      ]);
    } catch {
      // The entry stays due as it was; the next drain tries again.
    }
  }
}
