import type { Container, SqlParameter } from '@azure/cosmos';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { Geography } from '../geography/geographies.js';
import { emptyIfMissing } from '../stores/cosmos-items.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { StoreDirectory } from '../stores/store-directory.js';
import { capabilityWithin, type Capabilities, type ImportedNumber, type PhoneNumberType, type AssignmentType, type PoolNumber } from './pool-number.js';

/**
 * The number pools, one per geography (container `phoneNumbers`, one logical partition per
 * geography). Writes that move a number between states are conditional on the item's ETag, so two
 * searches never reserve the same number and a release never races a purchase.
 */
export interface ImportOutcome {
  created: string[];
  updated: string[];
  skipped: { phoneNumber: string; reason: string }[];
}

export interface PoolCriteria {
  countryCode: string;
  phoneNumberType: PhoneNumberType;
  assignmentType: AssignmentType;
  capabilities: Capabilities;
  areaCode?: string;
}

export class NumberPool {
  constructor(private readonly deps: { stores: StoreDirectory; clock: Clock; carriersOf: (geographyKey: string) => string[] }) {}

  container(geo: GeoStore): Promise<Container> {
    return geo.container('phoneNumbers');
  }

  /**
   * Adds numbers to a geography's pool, or updates ones that are available. A number assigned or
   * reserved, or already in another geography's pool, is skipped with the reason.
   */
  async import(geography: Geography, numbers: ImportedNumber[]): Promise<ImportOutcome> {
    const carriers = this.deps.carriersOf(geography.key);
    numbers.forEach((number, index) => {
      if (!carriers.includes(number.carrier)) {
        const known = carriers.length > 0 ? `configured: ${carriers.join(', ')}` : 'none is configured (SMPP_HOST__' + geography.key.toUpperCase() + ')';
        throw new ServiceError('ValidationError', `numbers.${index}.carrier: ${geography.name} has no carrier '${number.carrier}' (${known}).`, { target: `numbers.${index}.carrier` });
      }
    });
    const duplicate = numbers.findIndex((n, i) => numbers.findIndex((m) => m.phoneNumber === n.phoneNumber) !== i);
    if (duplicate >= 0) throw new ServiceError('ValidationError', `numbers.${duplicate}.phoneNumber: ${numbers[duplicate]!.phoneNumber} is listed twice.`, { target: `numbers.${duplicate}.phoneNumber` });
    const home = this.deps.stores.forGeography(geography);
    const others = this.deps.stores.all().filter((geo) => geo.geography.key !== geography.key);
    const container = await this.container(home);
    const outcome: ImportOutcome = { created: [], updated: [], skipped: [] };
    const now = this.deps.clock.now().toISOString();
    for (const number of numbers) {
      const elsewhere = await this.#pooledElsewhere(others, number.phoneNumber);
      if (elsewhere) {
        outcome.skipped.push({ phoneNumber: number.phoneNumber, reason: `in the pool of ${elsewhere}` });
        continue;
      }
      const existing = await this.get(home, number.phoneNumber);
      if (existing && existing.status !== 'available' && !this.#reservationExpired(existing)) {
        outcome.skipped.push({ phoneNumber: number.phoneNumber, reason: existing.status === 'assigned' ? 'assigned to a resource' : 'reserved by a search' });
        continue;
      }
      const item: PoolNumber = { id: number.phoneNumber, kind: 'poolNumber', poolGeography: geography.key, ...number, importedAt: existing?.importedAt ?? now, status: 'available' };
      if (existing) {
        if (!(await this.replace(home, item, existing._etag))) outcome.skipped.push({ phoneNumber: number.phoneNumber, reason: 'changed concurrently; import it again' });
        else outcome.updated.push(number.phoneNumber);
      } else {
        try {
          await container.items.create(item);
          outcome.created.push(number.phoneNumber);
        } catch (error) {
          if ((error as { code?: number }).code !== 409) throw error;
          outcome.skipped.push({ phoneNumber: number.phoneNumber, reason: 'imported concurrently; import it again' });
        }
      }
    }
    return outcome;
  }

  /** A geography's pool, in number order, optionally one status only. */
  async list(geography: Geography, status?: string): Promise<PoolNumber[]> {
    const container = await this.deps.stores.forGeography(geography).existingContainer('phoneNumbers');
    const parameters: SqlParameter[] = [{ name: '@g', value: geography.key }];
    if (status) parameters.push({ name: '@s', value: status });
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<PoolNumber>({ query: `SELECT * FROM c WHERE c.poolGeography = @g AND c.kind = 'poolNumber'${status ? ' AND c.status = @s' : ''} ORDER BY c.id`, parameters }, { partitionKey: geography.key })
        .fetchAll(),
    );
    return resources;
  }

  /** Takes a number out of the pool; one that is assigned or reserved is a 409. */
  async remove(geography: Geography, phoneNumber: string): Promise<void> {
    const geo = this.deps.stores.forGeography(geography);
    const existing = await this.get(geo, phoneNumber);
    if (!existing) throw new ServiceError('NotFound', `${phoneNumber} is not in the pool of ${geography.name}.`, { target: 'phoneNumber' });
    if (existing.status !== 'available' && !this.#reservationExpired(existing)) {
      throw new ServiceError('Conflict', `${phoneNumber} is ${existing.status === 'assigned' ? 'assigned to a resource' : 'reserved by a search'}; it can leave the pool once it is released.`, { target: 'phoneNumber' });
    }
    try {
      await (await this.container(geo)).item(phoneNumber, geography.key).delete({ accessCondition: { type: 'IfMatch', condition: existing._etag! } });
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 412) throw new ServiceError('Conflict', `${phoneNumber} changed concurrently; try again.`, { target: 'phoneNumber' });
      if (code !== 404) throw error;
    }
  }

  async get(geo: GeoStore, phoneNumber: string): Promise<PoolNumber | undefined> {
    try {
      const { resource } = await (await geo.existingContainer('phoneNumbers')).item(phoneNumber, geo.geography.key).read<PoolNumber>();
      return resource;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  /** The number if it is assigned to this resource (a release under way included). */
  async assignedNumber(geo: GeoStore, resourceId: string, phoneNumber: string): Promise<PoolNumber | undefined> {
    const number = await this.get(geo, phoneNumber);
    return number?.status === 'assigned' && number.assignedResourceId === resourceId ? number : undefined;
  }

  /** The numbers assigned to a resource, in number order. */
  async assignedTo(geo: GeoStore, resourceId: string): Promise<PoolNumber[]> {
    return this.#query(geo, "c.status = 'assigned' AND c.assignedResourceId = @rid", [{ name: '@rid', value: resourceId }]);
  }

  /** The numbers a resource holds in any way (assigned or reserved by one of its searches). */
  async heldBy(geo: GeoStore, resourceId: string): Promise<PoolNumber[]> {
    return this.#query(geo, '(c.assignedResourceId = @rid OR c.reservation.resourceId = @rid)', [{ name: '@rid', value: resourceId }]);
  }

  /** Numbers a search may reserve: matching (capabilities offered included), available or with a reservation that ran out, at most `max`. */
  async candidates(geo: GeoStore, criteria: PoolCriteria, max: number): Promise<PoolNumber[]> {
    const parameters: SqlParameter[] = [
      { name: '@cc', value: criteria.countryCode },
      { name: '@t', value: criteria.phoneNumberType },
      { name: '@a', value: criteria.assignmentType },
      { name: '@now', value: this.deps.clock.now().toISOString() },
    ];
    if (criteria.areaCode) parameters.push({ name: '@area', value: criteria.areaCode });
    const matching = await this.#query(
      geo,
      `c.countryCode = @cc AND c.phoneNumberType = @t AND c.assignmentType = @a${criteria.areaCode ? ' AND c.areaCode = @area' : ''} AND (c.status = 'available' OR (c.status = 'reserved' AND c.reservation.expiresAt <= @now))`,
      parameters,
    );
    return matching.filter((n) => capabilityWithin(criteria.capabilities.calling, n.capabilities.calling) && capabilityWithin(criteria.capabilities.sms, n.capabilities.sms)).slice(0, max);
  }

  /** Every number of the pool (countries, localities, offerings list what the pool holds). */
  all(geo: GeoStore): Promise<PoolNumber[]> {
    return this.#query(geo, 'true', []);
  }

  /** Replaces a number if nobody changed it since it was read; false otherwise. */
  async replace(geo: GeoStore, number: PoolNumber, etag: string | undefined): Promise<boolean> {
    const { _etag: _, ...body } = number;
    try {
      await (await this.container(geo)).item(number.id, geo.geography.key).replace(body, etag ? { accessCondition: { type: 'IfMatch', condition: etag } } : {});
      return true;
    } catch (error) {
      const code = (error as { code?: number }).code;
      if (code === 412 || code === 404) return false;
      throw error;
    }
  }

  #reservationExpired(number: PoolNumber): boolean {
    return number.status === 'reserved' && number.reservation !== undefined && number.reservation.expiresAt <= this.deps.clock.now().toISOString();
  }

  async #pooledElsewhere(others: GeoStore[], phoneNumber: string): Promise<string | undefined> {
    for (const geo of others) if (await this.get(geo, phoneNumber)) return geo.geography.name;
    return undefined;
  }

  async #query(geo: GeoStore, filter: string, parameters: SqlParameter[]): Promise<PoolNumber[]> {
    const container = await geo.existingContainer('phoneNumbers');
    const { resources } = await emptyIfMissing(() =>
      container.items
        .query<PoolNumber>({ query: `SELECT * FROM c WHERE c.poolGeography = @g AND c.kind = 'poolNumber' AND ${filter} ORDER BY c.id`, parameters: [{ name: '@g', value: geo.geography.key }, ...parameters] }, { partitionKey: geo.geography.key })
        .fetchAll(),
    );
    return resources;
  }
}
