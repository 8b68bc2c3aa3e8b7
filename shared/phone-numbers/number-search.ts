import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { Clock } from '../clock.js';
import { stableId } from '../events/event-record.js';
import { ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { NumberPool } from './number-pool.js';
import { numberSubjects, SEARCH_MINUTES, type AssignmentRecord, type NumberRecords, type NumberSearchRecord } from './number-records.js';
import { OperationFailure } from './number-operations.js';
import { ASSIGNMENT_TYPES, capabilitiesSchema, PHONE_NUMBER_TYPES, type PoolNumber } from './pool-number.js';

/**
 * Search and purchase: a search reserves matching numbers of the resource's geography's pool for
 * SEARCH_MINUTES (ACS's search result, with `searchExpiresBy`); a purchase of the search assigns
 * them to the resource, with the capabilities the search asked for, and records an assignment fact
 * per number. A purchase that cannot take every reserved number assigns none.
 */
export const searchBodySchema = z.strictObject({
  phoneNumberType: z.enum(PHONE_NUMBER_TYPES, { error: `phoneNumberType must be one of ${PHONE_NUMBER_TYPES.join(', ')}` }),
  assignmentType: z.enum(ASSIGNMENT_TYPES, { error: `assignmentType must be one of ${ASSIGNMENT_TYPES.join(', ')}` }),
  capabilities: capabilitiesSchema,
  areaCode: z.string().regex(/^\d{1,6}$/, 'areaCode must be 1-6 digits').optional(),
  quantity: z.number({ error: 'quantity must be a whole number' }).int('quantity must be a whole number').min(1, 'quantity must be at least 1').max(100, 'quantity must be at most 100').default(1),
});
export type SearchBody = z.infer<typeof searchBodySchema>;

export const purchaseBodySchema = z.strictObject({
  searchId: z.string({ error: 'searchId is required' }).min(1, 'searchId is required').max(64, 'searchId is not a search id'),
  agreeToNotResell: z.boolean().optional(),
});

export const countryCodeParam = z.string().regex(/^[A-Za-z]{2}$/, 'countryCode must be an ISO 3166-1 alpha-2 country code such as US').transform((c) => c.toUpperCase());

export class NumberSearches {
  constructor(private readonly deps: { pool: NumberPool; records: NumberRecords; clock: Clock }) {}

  /** Reserves the numbers of a search; an OperationFailure when the pool has too few. */
  async search(geo: GeoStore, resource: Resource, searchId: string, countryCode: string, body: SearchBody): Promise<NumberSearchRecord> {
    const existing = await this.deps.records.read<NumberSearchRecord>(geo, resource.id, searchId, 'phoneNumberSearch');
    if (existing) return existing;
    const now = this.deps.clock.now();
    const expiresBy = new Date(now.getTime() + SEARCH_MINUTES * 60_000).toISOString();
    const reserved: PoolNumber[] = [];
    // Candidates are re-read until enough are reserved: another search may take some first.
    for (let attempt = 0; attempt < 5 && reserved.length < body.quantity; attempt += 1) {
      const candidates = await this.deps.pool.candidates(geo, { countryCode, ...body }, body.quantity - reserved.length);
      if (candidates.length === 0) break;
      for (const number of candidates) {
        const held: PoolNumber = { ...number, status: 'reserved', reservation: { resourceId: resource.id, searchId, expiresAt: expiresBy } };
        if (await this.deps.pool.replace(geo, held, number._etag)) reserved.push(held);
      }
    }
    if (reserved.length < body.quantity) {
      await this.#unreserve(geo, reserved, searchId);
      throw new OperationFailure('OutOfStock', `The ${geo.geography.name} pool has ${reserved.length} ${body.phoneNumberType} number(s) in ${countryCode} matching the search (assignment type, capabilities${body.areaCode ? ', area code' : ''}) free; ${body.quantity} were asked for.`);
    }
    const phoneNumbers = reserved.map((n) => n.phoneNumber).sort();
    const record: NumberSearchRecord = {
      id: searchId,
      resourceId: resource.id,
      kind: 'phoneNumberSearch',
      countryCode,
      phoneNumberType: body.phoneNumberType,
      assignmentType: body.assignmentType,
      capabilities: body.capabilities,
      ...(body.areaCode ? { areaCode: body.areaCode } : {}),
      quantity: body.quantity,
      phoneNumbers,
      ...(reserved[0]?.cost ? { cost: reserved[0].cost } : {}),
      createdAt: now.toISOString(),
      searchExpiresBy: expiresBy,
      subjects: numberSubjects(phoneNumbers),
      expiresAt: new Date(Date.parse(expiresBy) + 86_400_000).toISOString(),
    };
    await this.deps.records.upsert(geo, record);
    return record;
  }

  /** The search a purchase names, checked before the purchase starts. */
  async purchasable(geo: GeoStore, resource: Resource, searchId: string): Promise<NumberSearchRecord> {
    const search = await this.deps.records.read<NumberSearchRecord>(geo, resource.id, searchId, 'phoneNumberSearch');
    if (!search) throw new ServiceError('NotFound', `The search ${searchId} was not found in this resource.`, { target: 'searchId' });
    if (!search.purchaseOperationId && search.searchExpiresBy <= this.deps.clock.now().toISOString()) {
      throw new ServiceError('ValidationError', `The search ${searchId} expired at ${search.searchExpiresBy}; search again.`, { target: 'searchId' });
    }
    return search;
  }

  /** Assigns a search's numbers to the resource (all of them, or none). Safe to run again. */
  async purchase(geo: GeoStore, resource: Resource, search: NumberSearchRecord): Promise<void> {
    const now = this.deps.clock.now().toISOString();
    const taken: PoolNumber[] = [];
    for (const phoneNumber of search.phoneNumbers) {
      const number = await this.deps.pool.get(geo, phoneNumber);
      if (number?.status === 'assigned' && number.assignedResourceId === resource.id && number.assignment?.assignmentId === assignmentIdOf(search.id, phoneNumber)) continue;
      if (!number || number.status !== 'reserved' || number.reservation?.searchId !== search.id) {
        await this.#unassign(geo, taken, search);
        throw new OperationFailure('ReservationExpired', `${phoneNumber} is no longer reserved for the search ${search.id}; search again.`);
      }
      const { reservation: _, ...rest } = number;
      const assigned: PoolNumber = {
        ...rest,
        status: 'assigned',
        assignedResourceId: resource.id,
        assignment: { assignmentId: assignmentIdOf(search.id, phoneNumber), capabilities: search.capabilities, purchaseDate: now },
      };
      if (!(await this.deps.pool.replace(geo, assigned, number._etag))) {
        await this.#unassign(geo, taken, search);
        throw new OperationFailure('Conflict', `${phoneNumber} changed during the purchase; try again.`);
      }
      taken.push(assigned);
    }
    for (const number of taken) {
      const fact: AssignmentRecord = {
        id: number.assignment!.assignmentId,
        resourceId: resource.id,
        kind: 'phoneNumberAssignment',
        phoneNumber: number.phoneNumber,
        countryCode: number.countryCode,
        phoneNumberType: number.phoneNumberType,
        assignmentType: number.assignmentType,
        assignedAt: number.assignment!.purchaseDate,
        searchId: search.id,
        subjects: numberSubjects([number.phoneNumber]),
      };
      await this.deps.records.upsert(geo, fact);
    }
  }

  async #unreserve(geo: GeoStore, numbers: PoolNumber[], searchId: string): Promise<void> {
    for (const number of numbers) {
      const current = await this.deps.pool.get(geo, number.phoneNumber);
      if (current?.status !== 'reserved' || current.reservation?.searchId !== searchId) continue;
      const { reservation: _, ...rest } = current;
      await this.deps.pool.replace(geo, { ...rest, status: 'available' }, current._etag);
    }
  }

  /** Gives back what a failed purchase assigned: reserved for the search again. */
  async #unassign(geo: GeoStore, numbers: PoolNumber[], search: NumberSearchRecord): Promise<void> {
    for (const number of numbers) {
      const current = await this.deps.pool.get(geo, number.phoneNumber);
      if (current?.assignment?.assignmentId !== number.assignment?.assignmentId) continue;
      const { assignment: _a, assignedResourceId: _r, ...rest } = current!;
      await this.deps.pool.replace(geo, { ...rest, status: 'reserved', reservation: { resourceId: search.resourceId, searchId: search.id, expiresAt: search.searchExpiresBy } }, current!._etag);
    }
  }
}

/** One assignment id per (search, number), which does not show the number: a redone purchase writes the same facts. */
const assignmentIdOf = (searchId: string, phoneNumber: string) => stableId('phoneNumberAssignment', searchId, phoneNumber);

export const newSearchId = () => randomUUID();

/** The ACS search result (PhoneNumberSearchResult). */
export function searchResultView(search: NumberSearchRecord): Record<string, unknown> {
  return {
    searchId: search.id,
    phoneNumbers: search.phoneNumbers,
    phoneNumberType: search.phoneNumberType,
    assignmentType: search.assignmentType,
    capabilities: search.capabilities,
    ...(search.cost ? { cost: search.cost } : {}),
    searchExpiresBy: search.searchExpiresBy,
    isAgreementToNotResellRequired: false,
  };
}
