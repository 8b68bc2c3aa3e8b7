import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import { OPERATION_HOURS, type NumberOperationRecord, type NumberRecords, type OperationType } from './number-records.js';

/**
 * ACS long-running operations of the Phone Numbers API (search, purchase, release, capability
 * update). The work is done while the request that starts it is answered: the operation is written
 * `running` first, then the work runs (every step idempotent), then the operation is written
 * `succeeded` or `failed`. An operation left `running` by an instance that stopped half-way is
 * finished by the next read of its status (after STALE_MS), which redoes the work from its input.
 */
export const STALE_MS = 30_000;

/** A failure the operation reports (status `failed` with this error), not a failure of the request. */
export class OperationFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'OperationFailure';
  }
}

const ID_PREFIX: Record<OperationType, string> = {
  search: 'search',
  purchase: 'purchase',
  releasePhoneNumber: 'release',
  updatePhoneNumberCapabilities: 'capabilities',
};

export type OperationWork = (operation: NumberOperationRecord) => Promise<{ resourcePath?: string }>;

export class NumberOperations {
  constructor(private readonly deps: { records: NumberRecords; clock: Clock }) {}

  /** Starts an operation and does its work; answers the operation as it ended. */
  async run(
    geo: GeoStore,
    resource: Resource,
    start: { type: OperationType; input: NumberOperationRecord['input']; subjects: string[]; id?: string },
    work: OperationWork,
  ): Promise<NumberOperationRecord> {
    const now = this.#now();
    const operation: NumberOperationRecord = {
      id: start.id ?? `${ID_PREFIX[start.type]}_${randomUUID()}`,
      resourceId: resource.id,
      kind: 'phoneNumberOperation',
      operationType: start.type,
      status: 'running',
      createdDateTime: now,
      lastActionDateTime: now,
      input: start.input,
      subjects: start.subjects,
      expiresAt: new Date(this.deps.clock.now().getTime() + OPERATION_HOURS * 3_600_000).toISOString(),
    };
    await this.deps.records.upsert(geo, operation);
    return this.finish(geo, operation, work);
  }

  /** Does (or redoes) an operation's work and records how it ended. */
  async finish(geo: GeoStore, operation: NumberOperationRecord, work: OperationWork): Promise<NumberOperationRecord> {
    let ended: NumberOperationRecord;
    try {
      const { resourcePath } = await work(operation);
      ended = { ...operation, status: 'succeeded', lastActionDateTime: this.#now(), ...(resourcePath ? { resourcePath } : {}) };
    } catch (error) {
      if (!(error instanceof OperationFailure)) throw error;
      ended = { ...operation, status: 'failed', lastActionDateTime: this.#now(), error: { code: error.code, message: error.message } };
    }
    await this.deps.records.upsert(geo, ended);
    return ended;
  }

  /** Whether a running operation was left by an instance that stopped (nobody is working on it). */
  isStale(operation: NumberOperationRecord): boolean {
    return operation.status === 'running' && this.deps.clock.now().getTime() - Date.parse(operation.lastActionDateTime) >= STALE_MS;
  }

  #now(): string {
    return this.deps.clock.now().toISOString();
  }
}

/** The ACS operation status (PhoneNumberOperation). */
export function operationView(operation: NumberOperationRecord, locationOf: (path: string) => string): Record<string, unknown> {
  return {
    id: operation.id,
    operationType: operation.operationType,
    status: operation.status,
    ...(operation.resourcePath && operation.status === 'succeeded' ? { resourceLocation: locationOf(operation.resourcePath) } : {}),
    createdDateTime: operation.createdDateTime,
    lastActionDateTime: operation.lastActionDateTime,
    ...(operation.error ? { error: operation.error } : {}),
  };
}
