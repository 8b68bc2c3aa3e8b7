import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { Logger } from '../telemetry/logger.js';
import { erasureReceipt } from './erasure-receipt.js';
import { emptyCounts, RESULT_DAYS, type Cursor, type PrivacyRequestRecord } from './privacy-request.js';
import { EXPORT_SECTIONS, PHASES } from './request-phases.js';
import { appendToBundle, commitBundle, emptyBundle } from './result-bundle.js';
import type { FoundItem, PrivacyContext, SourcePage, SubjectSource } from './sources/subject-source.js';

/**
 * Runs data subject requests in the background, durably. A worker takes a request with a lease,
 * then works in steps: each step reads one page of one store and records where it got to (the
 * checkpoint) in the request item, with optimistic concurrency so only the lease holder can write.
 * A delete step is written to the checkpoint before it is applied and redone by whoever resumes, so
 * an erasure interrupted anywhere is finished with exact counts. A worker that crashes leaves its
 * lease to run out; the next timer run after that resumes from the checkpoint.
 */
export interface PrivacyRunnerDeps {
  clock: Clock;
  logger: Logger;
  resourceById(id: string): Promise<Resource | undefined>;
  /** Everything a step needs besides the request (stores, services, holds), built per run. */
  context(geo: GeoStore, resource: Resource, request: PrivacyRequestRecord): Promise<PrivacyContext>;
  leaseMs: number;
  /** Tests: awaited after every checkpoint (a crash is simulated by never returning). */
  afterCheckpoint?: (request: PrivacyRequestRecord) => Promise<void>;
}

export type RunOutcome = 'finished' | 'paused' | 'waiting' | 'busy' | 'lost' | 'failed' | 'handedOff';

/** A slice (a queue work item): at most `maxSteps` steps, then the lease passes to `handOffTo` (the next item's ticket). */
export type SliceOptions = { maxSteps?: number; handOffTo?: string };

/** How often a delete walks everything again when its last pass still erased something. */
const MAX_ROUNDS = 3;
/** After this many failed runs in a row, a request is given up as failed. */
const MAX_FAILURES = 10;

class LeaseLost extends Error {}

export class PrivacyRequestRunner {
  readonly #owner: string;

  /** `owner`: who holds a request's lease while this runner works on it (a work item's ticket; default: this runner). */
  constructor(private readonly deps: PrivacyRunnerDeps, owner: string = randomUUID()) {
    this.#owner = owner;
  }

  /** Takes a waiting request's lease for this runner's owner (the planner, for the work item it enqueues); false if someone else took it. */
  async claim(geo: GeoStore, candidate: PrivacyRequestRecord): Promise<boolean> {
    try {
      await this.#save(await geo.container('privacyRequests'), candidate);
      return true;
    } catch (error) {
      if (error instanceof LeaseLost) return false;
      throw error;
    }
  }

  /** Requests of a geography that are waiting or were interrupted, oldest first; with `unleasedAt`, only those without a lease then. */
  async due(geo: GeoStore, max: number, unleasedAt?: Date): Promise<PrivacyRequestRecord[]> {
    const container = await geo.existingContainer('privacyRequests');
    const unleased = unleasedAt ? ' AND (NOT IS_DEFINED(c.lease) OR IS_NULL(c.lease) OR c.lease.until <= @now)' : '';
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<PrivacyRequestRecord>({
          query: `SELECT TOP @n * FROM c WHERE c.kind = 'privacyRequest' AND (c.status = 'notStarted' OR c.status = 'running')${unleased} ORDER BY c.createdAt`,
          parameters: [{ name: '@n', value: max }, ...(unleasedAt ? [{ name: '@now', value: unleasedAt.toISOString() }] : [])],
        })
        .fetchAll(),
    );
    return resources;
  }

  /** Works on one request until it finishes, must wait, or the deadline (epoch ms) passes. */
  async run(geo: GeoStore, candidate: PrivacyRequestRecord, deadline: number, slice: SliceOptions = {}): Promise<RunOutcome> {
    const container = await geo.container('privacyRequests');
    const now = this.deps.clock.now();
    if (candidate.lease && candidate.lease.owner !== this.#owner && Date.parse(candidate.lease.until) > now.getTime()) return 'busy';
    let request: PrivacyRequestRecord;
    try {
      request = await this.#save(container, { ...candidate, status: 'running', startedAt: candidate.startedAt ?? now.toISOString() });
    } catch (error) {
      if (error instanceof LeaseLost) return 'busy';
      throw error;
    }
    try {
      const resource = await this.deps.resourceById(request.resourceId);
      if (!resource || resource.state !== 'active') {
        await this.#end(container, request, 'failed', { code: 'NotFound', message: 'The resource was deleted before the request completed.' });
        return 'failed';
      }
      const ctx = await this.deps.context(geo, resource, request);
      const outcome = await this.#work(container, ctx, request, deadline, slice);
      return outcome;
    } catch (error) {
      if (error instanceof LeaseLost) return 'lost';
      return this.#failed(container, request.id, request.resourceId, error);
    }
  }

  async #work(container: Container, ctx: PrivacyContext, start: PrivacyRequestRecord, deadline: number, slice: SliceOptions): Promise<RunOutcome> {
    let request = start;
    const phases = PHASES[request.action];
    let steps = 0;
    while (Date.now() < deadline && steps++ < (slice.maxSteps ?? Infinity)) {
      if (request.inFlight) {
        request = await this.#applyInFlight(container, ctx, request, phases[request.phase]!);
        continue;
      }
      if (request.phase >= phases.length) {
        if (request.action === 'delete' && (request.erasedThisRound ?? 0) > 0 && request.rounds < MAX_ROUNDS) {
          // Walk everything once more: what the last pass found is gone, and anything written meanwhile is found now.
          request = await this.#checkpoint(container, { ...request, rounds: request.rounds + 1, erasedThisRound: 0, phase: 0, cursor: null });
          continue;
        }
        await this.#finish(container, ctx, request);
        return 'finished';
      }
      const source = phases[request.phase]!;
      const page = await source.page(ctx, request.cursor);
      const waiting = (request.waiting ?? 0) + (page.waiting ?? 0);
      request = { ...request, waiting };
      request = request.action === 'delete' ? await this.#eraseStep(container, ctx, request, source, page) : await this.#listStep(container, ctx, request, source, page);
      if (page.next === null && waiting > 0) {
        // Some of this store's items cannot go yet (events awaiting publication): walk this store again next run.
        request = await this.#checkpoint(container, { ...request, phase: request.phase - 1, cursor: null, waiting: 0 });
        await this.#release(container, request);
        return 'waiting';
      }
    }
    // The next work item continues: the lease passes to its ticket, so the planner leaves the request alone meanwhile.
    if (slice.handOffTo) {
      await this.#save(container, request, { owner: slice.handOffTo });
      return 'handedOff';
    }
    await this.#release(container, request);
    return 'paused';
  }

  /** Inventory and export: one page appended to the result document, with its counts. */
  async #listStep(container: Container, ctx: PrivacyContext, request: PrivacyRequestRecord, source: SubjectSource, page: SourcePage): Promise<PrivacyRequestRecord> {
    const inventory = request.action === 'inventory';
    const entries = inventory
      ? page.items.map((item) => ({ kind: item.kind, id: item.id, ...(item.heldBy ? { heldBy: item.heldBy } : {}), ...item.facts }))
      : page.items.filter((item) => item.view !== undefined).map((item) => item.view);
    const section = inventory ? source.name : source.section!;
    const bundle = await appendToBundle(await this.#resultBlob(ctx, request), request.bundle ?? emptyBundle(), section, entries);
    const counted = countFound(request, page.items);
    return this.#checkpoint(container, { ...advance(counted, page.next), bundle });
  }

  /** Delete: held items are counted and kept; the rest is written to the checkpoint, then erased. */
  async #eraseStep(container: Container, ctx: PrivacyContext, request: PrivacyRequestRecord, source: SubjectSource, page: SourcePage): Promise<PrivacyRequestRecord> {
    const erasable = page.items.filter((item) => !item.heldBy);
    const counted = countFound(request, page.items);
    if (erasable.length === 0) return this.#checkpoint(container, advance(counted, page.next));
    const deleted: Record<string, number> = {};
    for (const item of erasable) deleted[item.kind] = (deleted[item.kind] ?? 0) + 1;
    const planned = await this.#checkpoint(container, { ...counted, inFlight: { work: erasable.map((item) => item.ref), deleted, next: page.next } });
    return this.#applyInFlight(container, ctx, planned, source);
  }

  async #applyInFlight(container: Container, ctx: PrivacyContext, request: PrivacyRequestRecord, source: SubjectSource): Promise<PrivacyRequestRecord> {
    const step = request.inFlight!;
    await source.erase(ctx, step.work);
    const counts = { ...request.counts };
    let erased = 0;
    for (const [kind, n] of Object.entries(step.deleted)) {
      counts[kind] = { ...(counts[kind] ?? emptyCounts()), deleted: (counts[kind]?.deleted ?? 0) + n };
      erased += n;
    }
    return this.#checkpoint(container, { ...advance({ ...request, counts, inFlight: null }, step.next), erasedThisRound: (request.erasedThisRound ?? 0) + erased });
  }

  async #finish(container: Container, ctx: PrivacyContext, request: PrivacyRequestRecord): Promise<void> {
    const completedAt = this.deps.clock.now();
    const expiresAt = resultExpiry(completedAt);
    let result: PrivacyRequestRecord['result'];
    if (request.action === 'delete') {
      const receipt = erasureReceipt(request, completedAt.toISOString());
      await (await ctx.geo.container('erasureReceipts')).items.upsert(receipt);
      result = { receiptId: receipt.id };
    } else {
      const blob = await this.#resultBlob(ctx, request);
      const header = {
        schema: `https://schemas.acs-residency.dev/privacy-${request.action}/v1`,
        requestId: request.id,
        resourceId: request.resourceId,
        action: request.action,
        requestedAt: request.createdAt,
        completedAt: completedAt.toISOString(),
        expiresAt,
        subjects: request.subjects,
        counts: Object.fromEntries(Object.entries(request.counts).map(([kind, c]) => [kind, { found: c.found, held: c.held }])),
        holdIds: request.holdIds,
      };
      const sections = request.action === 'inventory' ? PHASES.inventory.map((s) => s.name) : EXPORT_SECTIONS;
      const bytes = await commitBundle(blob, request.bundle ?? emptyBundle(), header, sections, {
        tags: { resourceId: request.resourceId, requestId: request.id, expiresAt },
      });
      result = { blobName: blob.name, bytes };
    }
    await this.#end(container, { ...request, result }, 'succeeded', null, completedAt);
  }

  /** Ends a request: the subjects in clear are dropped (only their hashes stay), the lease released. */
  async #end(
    container: Container,
    request: PrivacyRequestRecord,
    status: 'succeeded' | 'failed',
    error: PrivacyRequestRecord['error'],
    completedAt = this.deps.clock.now(),
  ): Promise<void> {
    await this.#save(container, {
      ...request,
      status,
      error,
      subjects: null,
      completedAt: completedAt.toISOString(),
      expiresAt: resultExpiry(completedAt),
      cursor: null,
      inFlight: null,
      bundle: null,
    }, { release: true });
  }

  async #failed(container: Container, id: string, resourceId: string, error: unknown): Promise<RunOutcome> {
    const detail = error instanceof Error ? error.message : String(error);
    this.deps.logger.error('privacy.request_failed', { resourceId, errorName: error instanceof Error ? error.name : typeof error, detail });
    const { resource: current } = await container.item(id, resourceId).read<PrivacyRequestRecord>();
    if (!current || current.lease?.owner !== this.#owner) return 'lost';
    const failures = (current.failures ?? 0) + 1;
    try {
      if (failures >= MAX_FAILURES) {
        // The answer says how often, not what failed (storage errors name internal addresses); the log has that.
        await this.#end(container, { ...current, failures, lastFailure: detail.slice(0, 300) }, 'failed', { code: 'InternalError', message: `The request failed ${failures} times in a row.` });
        return 'failed';
      }
      await this.#save(container, { ...current, failures, lastFailure: detail.slice(0, 300) }, { release: true });
    } catch (saveError) {
      if (!(saveError instanceof LeaseLost)) throw saveError;
    }
    return 'paused';
  }

  #resultBlob(ctx: PrivacyContext, request: PrivacyRequestRecord) {
    return ctx.geo.blobContainer('exports').then((c) => c.getBlockBlobClient(`${request.resourceId}/${request.id}.json`));
  }

  async #checkpoint(container: Container, request: PrivacyRequestRecord): Promise<PrivacyRequestRecord> {
    const saved = await this.#save(container, { ...request, failures: 0 });
    await this.deps.afterCheckpoint?.(saved);
    return saved;
  }

  async #release(container: Container, request: PrivacyRequestRecord): Promise<void> {
    await this.#save(container, request, { release: true });
  }

  /** Writes the request if nobody else did since it was read, renewing this worker's lease (or releasing it). */
  async #save(container: Container, request: PrivacyRequestRecord, options: { release?: boolean; owner?: string } = {}): Promise<PrivacyRequestRecord> {
    const now = this.deps.clock.now();
    const { _etag, ...body } = request;
    const written: PrivacyRequestRecord = {
      ...body,
      updatedAt: now.toISOString(),
      lease: options.release ? null : { owner: options.owner ?? this.#owner, until: new Date(now.getTime() + this.deps.leaseMs).toISOString() },
    };
    try {
      const { resource } = await container.item(request.id, request.resourceId).replace<PrivacyRequestRecord>(written, _etag ? { accessCondition: { type: 'IfMatch', condition: _etag } } : {});
      return resource!;
    } catch (error) {
      if ((error as { code?: number }).code === 412) throw new LeaseLost('Another worker changed the request.');
      throw error;
    }
  }
}

/** The request with the page's found and held counts added (the first round only: later rounds find again what holds keep). */
function countFound(request: PrivacyRequestRecord, items: FoundItem[]): PrivacyRequestRecord {
  if (request.rounds > 0) return request;
  const counts = { ...request.counts };
  const holdIds = new Set(request.holdIds);
  for (const item of items) {
    const c = { ...(counts[item.kind] ?? emptyCounts()) };
    c.found += 1;
    if (item.heldBy) {
      c.held += 1;
      for (const hold of item.heldBy) holdIds.add(hold);
    }
    counts[item.kind] = c;
  }
  return { ...request, counts, holdIds: [...holdIds] };
}

/** A finished request and its result are kept this long after completion. */
const resultExpiry = (completedAt: Date) => new Date(completedAt.getTime() + RESULT_DAYS * 86_400_000).toISOString();

function advance(request: PrivacyRequestRecord, next: Cursor | null): PrivacyRequestRecord {
  return next === null ? { ...request, phase: request.phase + 1, cursor: null } : { ...request, cursor: next };
}

