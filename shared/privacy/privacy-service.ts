import { createHash, randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { Container } from '@azure/cosmos';
import { ServiceError } from '../errors/service-error.js';
import { resourceIdOf } from '../identity/identity-id.js';
import type { Resource } from '../resources/resource.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { ignoreNotFound } from '../stores/not-found.js';
import type { ErasureReceipt } from './erasure-receipt.js';
import type { PrivacyRequestRecord } from './privacy-request.js';
import { normalizeSubjects, subjectHash, type PrivacyRequestBody } from './privacy-subjects.js';
import { PrivacyRequestRunner, type PrivacyRunnerDeps, type RunOutcome } from './request-runner.js';

/**
 * Data subject requests (inventory, export, delete) of one resource: submitted here, worked on in
 * the background by the runner (see request-runner.ts), read back with their progress, results and
 * erasure receipts. Everything stays in the resource's geography.
 */
export interface PrivacyServiceDeps extends PrivacyRunnerDeps {
  stores: StoreDirectory;
  hashKey: string;
}

export interface WorkerTotals {
  requests: number;
  finished: number;
  failed: number;
  waiting: number;
}

export class PrivacyService {
  readonly runner: PrivacyRequestRunner;

  constructor(private readonly deps: PrivacyServiceDeps) {
    this.runner = new PrivacyRequestRunner(deps);
  }

  /**
   * Records a request to be worked on. With a repeatability id, the same id and body answer the
   * request made the first time (`created: false`); the same id with another body is a 409.
   */
  async submit(resource: Resource, body: PrivacyRequestBody, repeatabilityId?: string): Promise<{ request: PrivacyRequestRecord; created: boolean }> {
    const subjects = normalizeSubjects(body.subjects);
    subjects.identityIds.forEach((id, index) => {
      if (resourceIdOf(id) !== resource.id) {
        throw new ServiceError('ValidationError', `subjects.identityIds.${index}: the identity does not belong to this resource.`, { target: `subjects.identityIds.${index}` });
      }
    });
    const now = this.deps.clock.now().toISOString();
    const subjectHashes = subjects.keys.map((key) => subjectHash(this.deps.hashKey, resource.id, key));
    const id = repeatabilityId
      ? createHash('sha256').update(`${resource.id}\u0000${repeatabilityId}`).digest('hex').slice(0, 32)
      : `${Date.now().toString(16).padStart(12, '0')}${randomBytes(10).toString('hex')}`;
    const { keys: _keys, ...clear } = subjects;
    const request: PrivacyRequestRecord = {
      id,
      resourceId: resource.id,
      kind: 'privacyRequest',
      action: body.action,
      status: 'notStarted',
      subjects: clear,
      subjectHashes,
      createdAt: now,
      updatedAt: now,
      lease: null,
      phase: 0,
      cursor: null,
      inFlight: null,
      rounds: 0,
      counts: {},
      holdIds: [],
      bundle: null,
      result: null,
      error: null,
      expiresAt: null,
      ...(repeatabilityId ? { repeatabilityId } : {}),
    };
    const container = await this.#requests(resource);
    try {
      const { resource: created } = await container.items.create(request);
      return { request: created as PrivacyRequestRecord, created: true };
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
      const existing = await this.get(resource, id);
      if (existing.action !== request.action || existing.subjectHashes.join() !== subjectHashes.join()) {
        throw new ServiceError('Conflict', 'This repeatability-request-id was used for a different request.', { target: 'repeatability-request-id' });
      }
      return { request: existing, created: false };
    }
  }

  async get(resource: Resource, id: string): Promise<PrivacyRequestRecord> {
    const container = await this.#requests(resource);
    const { resource: request } = /^[0-9a-f]{32}$/.test(id) ? await container.item(id, resource.id).read<PrivacyRequestRecord>() : { resource: undefined };
    if (!request || request.kind !== 'privacyRequest' || this.#expired(request)) {
      throw new ServiceError('NotFound', `Privacy request '${id.slice(0, 64)}' was not found.`, { target: 'requestId' });
    }
    return request;
  }

  /** The resource's requests, newest first. */
  async list(resource: Resource, page: { maxPageSize: number; before?: string }): Promise<{ requests: PrivacyRequestRecord[]; more: boolean }> {
    const records = await this.#page<PrivacyRequestRecord>(await this.#requests(resource), resource, 'privacyRequest', page);
    return { requests: records.items.filter((r) => !this.#expired(r)), more: records.more };
  }

  /** The result document of a finished inventory or export, while it may be downloaded. */
  async result(resource: Resource, id: string): Promise<{ body: Readable; length: number; name: string }> {
    const request = await this.get(resource, id);
    const blobName = request.result?.blobName;
    if (request.status !== 'succeeded' || !blobName) {
      throw new ServiceError('NotFound', request.status === 'succeeded' ? 'This request has no result document.' : 'The request has not finished yet.', { target: 'requestId' });
    }
    const blob = (await this.deps.stores.forResource(resource).blobContainer('exports')).getBlobClient(blobName);
    const download = await blob.download().catch((error: unknown) => {
      ignoreNotFound(error);
      throw new ServiceError('NotFound', 'The result document is no longer available.', { target: 'requestId' });
    });
    return { body: download.readableStreamBody as Readable, length: download.contentLength ?? 0, name: `${request.action}-${request.id}.json` };
  }

  /** Erasure receipts, newest first; with `subject`, only those that name that person. */
  async receipts(resource: Resource, page: { maxPageSize: number; before?: string; subject?: string }): Promise<{ receipts: ErasureReceipt[]; more: boolean }> {
    const container = await this.deps.stores.forResource(resource).container('erasureReceipts');
    const hash = page.subject ? subjectHash(this.deps.hashKey, resource.id, normalizeSubjectKey(page.subject)) : undefined;
    const records = await this.#page<ErasureReceipt>(container, resource, 'erasureReceipt', page, hash);
    return { receipts: records.items, more: records.more };
  }

  async receipt(resource: Resource, id: string): Promise<ErasureReceipt> {
    const container = await this.deps.stores.forResource(resource).container('erasureReceipts');
    const { resource: receipt } = /^[0-9a-f]{32}$/.test(id) ? await container.item(id, resource.id).read<ErasureReceipt>() : { resource: undefined };
    if (!receipt || receipt.kind !== 'erasureReceipt') throw new ServiceError('NotFound', `Erasure receipt '${id.slice(0, 64)}' was not found.`, { target: 'receiptId' });
    return receipt;
  }

  /** One worker run over a geography: due requests, oldest first, until the deadline (epoch ms). */
  async work(geo: GeoStore, deadline: number): Promise<WorkerTotals> {
    const totals: WorkerTotals = { requests: 0, finished: 0, failed: 0, waiting: 0 };
    for (const request of await this.runner.due(geo, 50)) {
      if (Date.now() >= deadline) break;
      const outcome: RunOutcome = await this.runner.run(geo, request, deadline);
      if (outcome === 'busy') continue;
      totals.requests += 1;
      if (outcome === 'finished') totals.finished += 1;
      if (outcome === 'failed') totals.failed += 1;
      if (outcome === 'waiting') totals.waiting += 1;
    }
    return totals;
  }

  /** The planner: takes a waiting request's lease for the work item with this ticket. */
  claim(geo: GeoStore, request: PrivacyRequestRecord, ticket: string): Promise<boolean> {
    return new PrivacyRequestRunner(this.deps, ticket).claim(geo, request);
  }

  /**
   * One work item: a slice of the request (at most `maxSteps` steps, or until the deadline), as the
   * holder of `ticket`; when more is left, the lease passes to `nextTicket` ('handedOff').
   */
  async runSlice(geo: GeoStore, requestId: string, resourceId: string, slice: { ticket: string; nextTicket: string; maxSteps: number; deadline: number }): Promise<RunOutcome | 'gone'> {
    const { resource: request } = await (await geo.container('privacyRequests')).item(requestId, resourceId).read<PrivacyRequestRecord>();
    if (!request || request.kind !== 'privacyRequest' || request.status === 'succeeded' || request.status === 'failed') return 'gone';
    return new PrivacyRequestRunner(this.deps, slice.ticket).run(geo, request, slice.deadline, { maxSteps: slice.maxSteps, handOffTo: slice.nextTicket });
  }

  /**
   * The retention timer's part: finished requests and their result documents past their expiry
   * (7 days after completion). Receipts stay.
   */
  async purgeExpired(geo: GeoStore, options: { maxItems: number }): Promise<{ requests: number; results: number; more: boolean }> {
    const container = await geo.existingContainer('privacyRequests');
    const now = this.deps.clock.now().toISOString();
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<Pick<PrivacyRequestRecord, 'id' | 'resourceId' | 'result'>>({
          query: "SELECT TOP @n c.id, c.resourceId, c.result FROM c WHERE c.kind = 'privacyRequest' AND IS_STRING(c.expiresAt) AND c.expiresAt <= @now",
          parameters: [
            { name: '@n', value: options.maxItems + 1 },
            { name: '@now', value: now },
          ],
        })
        .fetchAll(),
    );
    let requests = 0;
    let results = 0;
    for (const request of resources.slice(0, options.maxItems)) {
      if (request.result?.blobName) {
        await (await geo.blobContainer('exports')).deleteBlob(request.result.blobName, { deleteSnapshots: 'include' }).catch(ignoreNotFound);
        results += 1;
      }
      await container.item(request.id, request.resourceId).delete().catch(ignoreNotFound);
      requests += 1;
    }
    return { requests, results, more: resources.length > options.maxItems };
  }

  #expired(request: PrivacyRequestRecord): boolean {
    return request.expiresAt !== null && request.expiresAt <= this.deps.clock.now().toISOString();
  }

  #requests(resource: Resource): Promise<Container> {
    return this.deps.stores.forResource(resource).container('privacyRequests');
  }

  async #page<T extends { id: string; createdAt?: string; completedAt?: string }>(
    container: Container,
    resource: Resource,
    kind: string,
    page: { maxPageSize: number; before?: string },
    subjectHashFilter?: string,
  ): Promise<{ items: T[]; more: boolean }> {
    const order = kind === 'erasureReceipt' ? 'completedAt' : 'createdAt';
    const parameters = [
      { name: '@rid', value: resource.id },
      { name: '@kind', value: kind },
      { name: '@n', value: page.maxPageSize + 1 },
      ...(page.before ? [{ name: '@before', value: page.before }] : []),
      ...(subjectHashFilter ? [{ name: '@h', value: subjectHashFilter }] : []),
    ];
    const { resources } = await container.items
      .query<T>(
        {
          query: `SELECT TOP @n * FROM c WHERE c.resourceId = @rid AND c.kind = @kind${page.before ? ` AND c.${order} < @before` : ''}${subjectHashFilter ? ` AND ARRAY_CONTAINS(c.${kind === 'erasureReceipt' ? 'subjects' : 'subjectHashes'}, @h)` : ''} ORDER BY c.${order} DESC`,
          parameters,
        },
        { partitionKey: resource.id },
      )
      .fetchAll();
    return { items: resources.slice(0, page.maxPageSize), more: resources.length > page.maxPageSize };
  }
}

/** A subject as a caller names it in a query: an identity id, an E.164 number, or an e-mail address. */
function normalizeSubjectKey(subject: string): string {
  const value = subject.trim();
  if (/^\+[1-9]\d{6,14}$/.test(value)) return `4:${value}`;
  return value.toLowerCase();
}
