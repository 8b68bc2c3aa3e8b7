import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import type { SmsRecords } from '../sms/sms-records.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import type { NumberPool } from './number-pool.js';
import { isFree } from './number-catalogue.js';
import { NumberOperations, OperationFailure, type OperationWork } from './number-operations.js';
import { numberSubjects, NumberRecords, type NumberOperationRecord, type NumberSearchRecord } from './number-records.js';
import { NumberReleases, type CapabilitiesBody } from './number-release.js';
import { NumberSearches, newSearchId, type SearchBody } from './number-search.js';
import type { PoolNumber } from './pool-number.js';

/**
 * The Phone Numbers API of a resource: its numbers (list, get), search and purchase from its
 * geography's pool, release, capability updates and the long-running operations that carry them.
 * Every store it touches is the resource's geography's.
 */
export class PhoneNumberService {
  readonly records = new NumberRecords();
  readonly operations: NumberOperations;
  readonly searches: NumberSearches;
  readonly releases: NumberReleases;

  constructor(private readonly deps: { stores: StoreDirectory; pool: NumberPool; sms: SmsRecords; clock: Clock }) {
    this.operations = new NumberOperations({ records: this.records, clock: deps.clock });
    this.searches = new NumberSearches({ pool: deps.pool, records: this.records, clock: deps.clock });
    this.releases = new NumberReleases({ pool: deps.pool, records: this.records, sms: deps.sms, clock: deps.clock });
  }

  get pool(): NumberPool {
    return this.deps.pool;
  }

  /** The resource's numbers, in number order. */
  list(resource: Resource): Promise<PoolNumber[]> {
    return this.deps.pool.assignedTo(this.deps.stores.forResource(resource), resource.id);
  }

  /** A number of the resource; anything else (another resource's, a pool number, unknown) is a 404. */
  async get(resource: Resource, phoneNumber: string): Promise<PoolNumber> {
    const number = await this.deps.pool.assignedNumber(this.deps.stores.forResource(resource), resource.id, phoneNumber);
    if (!number) throw notFound(phoneNumber);
    return number;
  }

  /** The pool's numbers a search of this resource could take (for the catalogue listings). */
  async free(resource: Resource): Promise<PoolNumber[]> {
    const now = this.deps.clock.now().toISOString();
    return (await this.deps.pool.all(this.deps.stores.forResource(resource))).filter((n) => isFree(n, now));
  }

  async search(resource: Resource, countryCode: string, body: SearchBody): Promise<{ operation: NumberOperationRecord; search?: NumberSearchRecord }> {
    const geo = this.deps.stores.forResource(resource);
    const searchId = newSearchId();
    let search: NumberSearchRecord | undefined;
    const operation = await this.operations.run(geo, resource, { type: 'search', input: { searchId }, subjects: [], id: `search_${searchId}` }, async () => {
      search = await this.searches.search(geo, resource, searchId, countryCode, body);
      return { resourcePath: `/availablePhoneNumbers/searchResults/${searchId}` };
    });
    // A search left running by a stopped instance is finished from what it wrote (see #work).
    return { operation, ...(search ? { search } : {}) };
  }

  async searchResult(resource: Resource, searchId: string): Promise<NumberSearchRecord> {
    const search = await this.records.read<NumberSearchRecord>(this.deps.stores.forResource(resource), resource.id, searchId, 'phoneNumberSearch');
    if (!search) throw new ServiceError('NotFound', `The search ${searchId} was not found in this resource.`, { target: 'searchId' });
    return search;
  }

  async purchase(resource: Resource, searchId: string): Promise<NumberOperationRecord> {
    const geo = this.deps.stores.forResource(resource);
    const search = await this.searches.purchasable(geo, resource, searchId);
    if (search.purchaseOperationId) {
      const earlier = await this.records.read<NumberOperationRecord>(geo, resource.id, search.purchaseOperationId, 'phoneNumberOperation');
      if (earlier) return earlier;
    }
    const id = `purchase_${searchId}`;
    await this.records.upsert(geo, { ...search, purchaseOperationId: id });
    return this.operations.run(geo, resource, { type: 'purchase', input: { searchId }, subjects: search.subjects, id }, this.#work(resource, 'purchase', { searchId }));
  }

  async release(resource: Resource, phoneNumber: string): Promise<NumberOperationRecord> {
    await this.get(resource, phoneNumber);
    const geo = this.deps.stores.forResource(resource);
    return this.operations.run(geo, resource, { type: 'releasePhoneNumber', input: { phoneNumber }, subjects: numberSubjects([phoneNumber]) }, this.#work(resource, 'releasePhoneNumber', { phoneNumber }));
  }

  async updateCapabilities(resource: Resource, phoneNumber: string, body: CapabilitiesBody): Promise<{ operation: NumberOperationRecord; number: PoolNumber }> {
    const number = await this.get(resource, phoneNumber);
    if (number.assignment?.releasingSince) throw notFound(phoneNumber);
    const wanted = this.releases.checkCapabilities(number, body);
    const geo = this.deps.stores.forResource(resource);
    const operation = await this.operations.run(
      geo,
      resource,
      { type: 'updatePhoneNumberCapabilities', input: { phoneNumber, capabilities: wanted }, subjects: numberSubjects([phoneNumber]) },
      this.#work(resource, 'updatePhoneNumberCapabilities', { phoneNumber, capabilities: wanted }),
    );
    return { operation, number: { ...number, assignment: { ...number.assignment!, capabilities: wanted } } };
  }

  /** An operation of the resource; one left running by a stopped instance is finished first. */
  async operation(resource: Resource, operationId: string): Promise<NumberOperationRecord> {
    const geo = this.deps.stores.forResource(resource);
    const operation = await this.records.read<NumberOperationRecord>(geo, resource.id, operationId, 'phoneNumberOperation');
    if (!operation) throw new ServiceError('NotFound', `The operation ${operationId} was not found in this resource.`, { target: 'operationId' });
    if (!this.operations.isStale(operation)) return operation;
    return this.operations.finish(geo, operation, this.#work(resource, operation.operationType, operation.input));
  }

  #work(resource: Resource, type: NumberOperationRecord['operationType'], input: NumberOperationRecord['input']): OperationWork {
    const geo = this.deps.stores.forResource(resource);
    switch (type) {
      case 'purchase':
        return async () => {
          await this.searches.purchase(geo, resource, await this.searchResult(resource, input.searchId!));
          return {};
        };
      case 'releasePhoneNumber':
        return async () => {
          await this.releases.release(geo, resource, input.phoneNumber!, 'releasedByRequest');
          return {};
        };
      case 'updatePhoneNumberCapabilities':
        return async () => {
          await this.releases.updateCapabilities(geo, resource, input.phoneNumber!, { calling: input.capabilities!.calling!, sms: input.capabilities!.sms! });
          return { resourcePath: `/phoneNumbers/${encodeURIComponent(input.phoneNumber!)}` };
        };
      case 'search':
        return async () => {
          const search = await this.records.read<NumberSearchRecord>(geo, resource.id, input.searchId!, 'phoneNumberSearch');
          if (!search) throw new SearchInterrupted();
          return { resourcePath: `/availablePhoneNumbers/searchResults/${search.id}` };
        };
    }
  }
}

/** A search that stopped before it wrote its result cannot be redone (its reservations run out). */
class SearchInterrupted extends OperationFailure {
  constructor() {
    super('InternalError', 'The search was interrupted; search again.');
  }
}

const notFound = (phoneNumber: string) => new ServiceError('NotFound', `The phone number ${phoneNumber} was not found in this resource.`, { target: 'phoneNumber' });
