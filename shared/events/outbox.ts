import { randomUUID } from 'node:crypto';
import type { Container, JSONObject, OperationInput, PatchOperation } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import { deleteGrouped, MAX_BATCH_OPERATIONS, runBatch } from '../stores/cosmos-batch.js';
import { deleteIfExists, emptyIfMissing } from '../stores/cosmos-items.js';
import type { Logger } from '../telemetry/logger.js';
import type { ControlContainerName, ControlStore } from '../stores/control-store.js';
import type { GeoContainerName } from '../stores/store-catalogue.js';
import type { GeoStore } from '../stores/geo-store.js';
import { collectSubjectIds } from '../oplog/subject-ids.js';
import type { EventPublisher } from './event-publisher.js';
import { toEventRecord, type EventDraft, type EventPayloadMode, type EventRecord } from './event-record.js';
import { eachAtMost } from '../each-at-most.js';
import { applySteps, WRITES_AT_ONCE } from './apply-steps.js';
import { markPublished, publishRemaining, recordPublished, writeProgress } from './outbox-publishing.js';
import { PublishedMarks } from './published-marks.js';

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
 * no longer holds), Cosmos has applied none of it and they are applied one by one with the rules
 * below; if its outcome is unknown (the request itself failed), one by one as a redo. Consecutive
 * unconditional single writes to one container, each in a partition of its own (a thread's
 * memberships), go side by side, WRITES_AT_ONCE at a time (see apply-steps.ts).
 */
export type StoreTarget = { plane: 'geo'; container: GeoContainerName } | { plane: 'control'; container: ControlContainerName };

export type StoreOp =
  | { op: 'upsert'; target: StoreTarget; partitionKey: string; item: { id: string } }
  /**
   * Sets top-level fields of an existing item, leaving the others as they are (for items other
   * writers change concurrently, such as a chat thread's sequence counter); `undefined` is stored as
   * null. A missing item is skipped: a later change deleted it. At most 9 fields (Cosmos allows 10
   * operations per patch, and the change stamp is one). With a `condition` (a Cosmos patch filter such
   * as `FROM c WHERE NOT IS_DEFINED(c.deletedOn)`), an item that no longer matches is left alone.
   */
  | { op: 'patch'; target: StoreTarget; id: string; partitionKey: string; set: Record<string, unknown>; condition?: string }
  /**
   * Deletes an item (a missing one is skipped). With `ifMatch` (an etag), only the item as it was then:
   * if it changed since, the fields of `elseSet` are set instead (a patch as above), so whoever
   * finishes the deletion finds it marked (the chat thread purge).
   */
  | { op: 'delete'; target: StoreTarget; id: string; partitionKey: string; ifMatch?: string; elseSet?: Record<string, unknown> };

export type OutboxStatus = 'pending' | 'applied' | 'published';

export interface OutboxEntry {
  id: string;
  resourceId: string;
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

/** Stamp written on every item an outbox change writes, so a redo can tell what it already did. */
export interface ChangeStamp {
  id: string;
  at: string;
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
   * published, and the entry's mark is written with the resource's next change, or after
   * OutboxDeps.markDelayMs. For changes where the latency saved matters (a chat send).
   */
  markPublishedLater?: boolean;
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

  constructor(private readonly deps: OutboxDeps) {
    this.#marks = new PublishedMarks({ outbox: () => deps.geo.container('outbox'), logger: deps.logger, geographyKey: deps.geo.geography.key, delayMs: deps.markDelayMs ?? 100 });
  }

  /** Writes the publication marks still waiting (see ChangeSet.markPublishedLater). */
  flushMarks(): Promise<void> {
    return this.#marks.flush();
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
    const outbox = await this.deps.geo.container('outbox');
    try {
      await this.#create(outbox, entry);
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      // The same change (a stable id) was committed before: finish that one instead of repeating it.
      return { events: await this.#finishExisting(outbox, entryId, change.resourceId), published: Promise.resolve() };
    }
    await this.#apply(entry, false);
    const published = this.#settle(outbox, entry, change.markPublishedLater === true).then(() => undefined);
    // Its caller awaits it; until then a rejection is not an unhandled one.
    published.catch(() => undefined);
    return { events, published };
  }

  /**
   * Writes a new entry, in one transactional batch with the publication marks its resource's earlier
   * changes left, if any (see PublishedMarks): so every change of a resource records those at no store
   * request more. Throws the create's error (409 for an id committed before).
   */
  async #create(outbox: Container, entry: OutboxEntry): Promise<void> {
    const marks = this.#marks.take(entry.resourceId);
    if (marks.length === 0) {
      await outbox.items.create(entry);
      return;
    }
    const outcome = await this.#marks.writeBatch(entry.resourceId, marks, [{ operationType: 'Create', resourceBody: entry as unknown as JSONObject }]);
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

  async #finishExisting(outbox: Container, id: string, resourceId: string): Promise<EventRecord[]> {
    const { resource: existing } = await outbox.item(id, resourceId).read<OutboxEntry>();
    if (!existing) throw new Error(`Outbox entry ${id} vanished while being finished`);
    const inFlight = existing.status === 'pending' && this.deps.clock.now().getTime() - Date.parse(existing.createdAt) < OUTBOX_IN_FLIGHT_GRACE_MS;
    if (inFlight) {
      // A concurrent duplicate: its first committer is still at work and publishes the events, so
      // publishing here would send them twice. Applying (idempotent) is enough for this caller.
      await this.#apply(existing, true);
    } else if (existing.status !== 'published') {
      await this.#finish(outbox, existing);
    }
    return existing.events;
  }

  /**
   * Finishes entries that are due: re-applies pending ones older than `graceMs` (a request may still
   * be applying younger ones) and publishes applied ones. Bounded by `maxEntries`.
   */
  async drain(options: { graceMs: number; maxEntries: number }): Promise<{ examined: number; published: number; failed: number }> {
    const outbox = await this.deps.geo.existingContainer('outbox');
    const now = this.deps.clock.now();
    const { resources } = await emptyIfMissing(() => outbox.items
      .query<OutboxEntry>(
        {
          query:
            'SELECT TOP @max * FROM c WHERE c.status != "published" AND c.nextAttemptAt <= @now ORDER BY c.nextAttemptAt',
          parameters: [
            { name: '@max', value: options.maxEntries },
            { name: '@now', value: now.toISOString() },
          ],
        },
      )
      .fetchAll());
    let published = 0;
    let failed = 0;
    for (const entry of resources) {
      if (entry.status === 'pending' && now.getTime() - Date.parse(entry.createdAt) < options.graceMs) continue;
      if (await this.#finish(outbox, entry)) published += 1;
      else failed += 1;
    }
    return { examined: resources.length, published, failed };
  }

  /** Finishes one entry a republish work item names, if it is still unfinished. True once it is published (or gone). */
  async republish(id: string, resourceId: string): Promise<boolean> {
    const outbox = await this.deps.geo.existingContainer('outbox');
    const { resource: entry } = await outbox.item(id, resourceId).read<OutboxEntry>();
    return !entry || entry.status === 'published' || this.#finish(outbox, entry);
  }

  /** Deletes published entries older than the retention period, a bounded number per call. */
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

  async #apply(entry: OutboxEntry, redo: boolean): Promise<void> {
    const stamp: ChangeStamp = { id: entry.id, at: entry.createdAt };
    for (const step of applySteps(partitionRuns(entry.ops))) {
      const group = step.ops;
      const container = await this.#container(group[0]!.target);
      if (step.kind === 'independent') {
        await eachAtMost(group, WRITES_AT_ONCE, (op) => this.#applyOne(container, op, stamp, redo));
        continue;
      }
      // A redo reads before it writes (to skip what the change already did): one by one.
      const outcome = !redo && group.length > 1 ? await runBatch(container, group[0]!.partitionKey, group.map((op) => batchOperation(op, stamp))) : 'refused';
      if (outcome === 'applied') continue;
      // Refused: nothing of it was applied. Unknown: it may have been, so one by one as a redo.
      for (const op of group) await this.#applyOne(container, op, stamp, redo || outcome === 'unknown');
    }
  }

  async #applyOne(container: Container, op: StoreOp, stamp: ChangeStamp, redo: boolean): Promise<void> {
    if (op.op === 'delete') {
      if (op.ifMatch === undefined) {
        await deleteIfExists(container, op.id, op.partitionKey);
        return;
      }
      try {
        await container.item(op.id, op.partitionKey).delete({ accessCondition: { type: 'IfMatch', condition: op.ifMatch } });
      } catch (error) {
        const code = (error as { code?: number }).code;
        if (code === 404) return;
        if (code !== 412) throw error;
        // Changed since: marked instead, for whoever finishes the deletion.
        if (op.elseSet) await this.#patch(container, { op: 'patch', target: op.target, id: op.id, partitionKey: op.partitionKey, set: op.elseSet }, stamp, redo);
      }
      return;
    }
    if (op.op === 'patch') {
      await this.#patch(container, op, stamp, redo);
      return;
    }
    const item = { ...op.item, changeStamp: stamp };
    if (!redo) {
      await container.items.upsert(item);
      return;
    }
    // A redo: skip what this change already wrote, and never overwrite a newer change.
    const { resource: current } = await container.item(op.item.id, op.partitionKey).read<{ changeStamp?: ChangeStamp }>();
    if (current?.changeStamp && (current.changeStamp.id === stamp.id || current.changeStamp.at > stamp.at)) return;
    await container.items.upsert(item);
  }

  async #patch(container: Container, op: Extract<StoreOp, { op: 'patch' }>, stamp: ChangeStamp, redo: boolean): Promise<void> {
    const item = container.item(op.id, op.partitionKey);
    if (redo) {
      const { resource: current } = await item.read<{ changeStamp?: ChangeStamp }>();
      if (!current || (current.changeStamp && (current.changeStamp.id === stamp.id || current.changeStamp.at > stamp.at))) return;
    }
    const operations = patchOperations(op, stamp);
    try {
      await item.patch(op.condition ? { condition: op.condition, operations } : operations);
    } catch (error) {
      // Gone (a later change deleted it), or no longer matching the condition.
      const code = (error as { code?: number }).code;
      if (code !== 404 && code !== 412) throw error;
    }
  }

  /** Finishes an entry left unfinished: re-applies a pending one (a redo), then settles it. True once published. */
  async #finish(outbox: Container, entry: OutboxEntry): Promise<boolean> {
    if (entry.status === 'pending') {
      try {
        await this.#apply(entry, true);
      } catch (error) {
        await this.#recordFailure(outbox, entry, error, []);
        return false;
      }
    }
    return this.#settle(outbox, entry);
  }

  /**
   * Publishes the events of an applied change and records the outcome in one write: published, or
   * applied with the time of the next attempt. The operations (which may carry content, such as
   * message text) are dropped either way, since they are applied. With `markLater`, a publication is
   * recorded later (PublishedMarks); a failure at once, as always.
   */
  async #settle(outbox: Container, entry: OutboxEntry, markLater = false): Promise<boolean> {
    entry.ops = [];
    try {
      await publishRemaining(entry, {
        publisher: this.deps.publisher,
        geographyKey: this.deps.geo.geography.key,
        timeoutMs: this.deps.publishTimeoutMs,
        recordProgress: (count) => writeProgress(outbox, entry, count, this.deps.logger),
      });
    } catch (error) {
      entry.status = 'applied';
      await this.#recordFailure(outbox, entry, error, [
        { op: 'set', path: '/status', value: 'applied' },
        { op: 'set', path: '/ops', value: [] },
      ]);
      return false;
    }
    if (markLater) this.#marks.add({ id: entry.id, resourceId: entry.resourceId, operations: markPublished(entry, this.deps.clock.now()) });
    else await recordPublished(outbox, entry, this.deps.clock.now());
    return true;
  }

  /** Records a failed attempt (with `also`, other fields to set in the same write) and backs off. */
  async #recordFailure(outbox: Container, entry: OutboxEntry, error: unknown, also: PatchOperation[]): Promise<void> {
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
      await outbox.item(entry.id, entry.resourceId).patch([
        ...also,
        { op: 'set', path: '/attempts', value: entry.attempts },
        { op: 'set', path: '/nextAttemptAt', value: nextAttemptAt },
        { op: 'set', path: '/lastError', value: detail.slice(0, 300) },
      ]);
    } catch {
      // The entry stays due as it was; the next drain tries again.
    }
  }

  #container(target: StoreTarget): Promise<Container> {
    return target.plane === 'geo' ? this.deps.geo.container(target.container) : this.deps.control.container(target.container);
  }
}

/** Well below the 2 MB Cosmos takes in one transactional batch request. */
const MAX_BATCH_BYTES = 1_500_000;

/**
 * The operations in order, cut into runs on one partition of one container (one batch each), at most
 * 100 operations and MAX_BATCH_BYTES of items each.
 */
function partitionRuns(ops: StoreOp[]): StoreOp[][] {
  const runs: { place: string; ops: StoreOp[]; bytes: number }[] = [];
  for (const op of ops) {
    const place = `${op.target.plane}/${op.target.container}/${op.partitionKey}`;
    const bytes = op.op === 'upsert' ? JSON.stringify(op.item).length : op.op === 'patch' ? JSON.stringify(op.set).length : 0;
    const last = runs.at(-1);
    if (last && last.place === place && last.ops.length < MAX_BATCH_OPERATIONS && last.bytes + bytes <= MAX_BATCH_BYTES) {
      last.ops.push(op);
      last.bytes += bytes;
    } else runs.push({ place, ops: [op], bytes });
  }
  return runs.map((run) => run.ops);
}

function patchOperations(op: Pick<Extract<StoreOp, { op: 'patch' }>, 'set'>, stamp: ChangeStamp): PatchOperation[] {
  return Object.entries({ ...op.set, changeStamp: stamp }).map(([field, value]) => ({ op: 'set', path: `/${field}`, value: value ?? null }));
}

/** A store operation as an operation of a transactional batch (a first attempt: no redo checks). */
function batchOperation(op: StoreOp, stamp: ChangeStamp): OperationInput {
  switch (op.op) {
    case 'delete':
      return { operationType: 'Delete', id: op.id, ...(op.ifMatch !== undefined ? { ifMatch: op.ifMatch } : {}) };
    case 'patch': {
      const operations = patchOperations(op, stamp);
      return { operationType: 'Patch', id: op.id, resourceBody: op.condition ? { condition: op.condition, operations } : operations };
    }
    case 'upsert':
      return { operationType: 'Upsert', resourceBody: { ...op.item, changeStamp: stamp } as unknown as JSONObject };
  }
}
