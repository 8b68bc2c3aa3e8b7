import * as z from 'zod';
import { auditRecord } from '../audit/audit-record.js';
import type { Clock } from '../clock.js';
import { ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import type { SmsRecords } from '../sms/sms-records.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { NumberPool } from './number-pool.js';
import type { AssignmentRecord, NumberRecords } from './number-records.js';
import { CAPABILITY_VALUES, capabilityWithin, type Capabilities, type PoolNumber } from './pool-number.js';

/**
 * Giving a number back, and changing what it does.
 *
 * A release leaves nothing that ties the number to the resource's users, in this order (each step
 * idempotent, so an interrupted release is finished by doing it again): the number is marked
 * `releasingSince` (from then on it sends nothing and takes no inbound message for the resource);
 * every SMS record of the number in the resource is deleted (opt-outs, pending delivery reports,
 * repeatability claims); the assignment fact gets its `releasedAt`; an audit record is written (no
 * personal data: the assignment id, country, type, times and counts, never the number); and the
 * number returns to the pool, available. When the resource itself is being deleted, the number only
 * goes back to the pool: the resource's erasure removes every record right after.
 */
export const capabilitiesBodySchema = z
  .strictObject({
    calling: z.enum(CAPABILITY_VALUES, { error: `calling must be one of ${CAPABILITY_VALUES.join(', ')}` }).optional(),
    sms: z.enum(CAPABILITY_VALUES, { error: `sms must be one of ${CAPABILITY_VALUES.join(', ')}` }).optional(),
  })
  .refine((body) => body.calling !== undefined || body.sms !== undefined, 'set calling, sms or both');
export type CapabilitiesBody = z.infer<typeof capabilitiesBodySchema>;

export class NumberReleases {
  constructor(private readonly deps: { pool: NumberPool; records: NumberRecords; sms: SmsRecords; clock: Clock }) {}

  /** Releases a number of the resource (or finishes a release under way). */
  async release(geo: GeoStore, resource: Resource, phoneNumber: string, reason: 'releasedByRequest' | 'resourceDeleted'): Promise<void> {
    const number = await this.deps.pool.get(geo, phoneNumber);
    if (!number || number.status !== 'assigned' || number.assignedResourceId !== resource.id || !number.assignment) return;
    const now = this.deps.clock.now().toISOString();
    let current = number;
    if (!current.assignment!.releasingSince) {
      const marked: PoolNumber = { ...current, assignment: { ...current.assignment!, releasingSince: now } };
      if (!(await this.deps.pool.replace(geo, marked, current._etag))) throw new ServiceError('Conflict', `${phoneNumber} is being changed concurrently; try again.`, { target: 'phoneNumber' });
      current = (await this.deps.pool.get(geo, phoneNumber))!;
    }
    const assignment = current.assignment!;
    // A resource being deleted has all its records erased next (shared/resources/resource-data-eraser.ts):
    // its number only has to go back to the pool.
    if (reason === 'resourceDeleted') return this.#backToPool(geo, current);
    const removed = await this.deps.sms.deleteForNumber(geo, resource.id, phoneNumber);
    const fact = await this.deps.records.read<AssignmentRecord>(geo, resource.id, assignment.assignmentId, 'phoneNumberAssignment');
    const releasedAt = fact?.releasedAt ?? assignment.releasingSince ?? now;
    if (fact && !fact.releasedAt) await this.deps.records.upsert(geo, { ...fact, releasedAt });
    const audit = auditRecord({
      resourceId: resource.id,
      action: 'phoneNumber.released',
      subjectType: 'phoneNumberAssignment',
      subjectId: assignment.assignmentId,
      reason,
      at: releasedAt,
      details: {
        countryCode: current.countryCode,
        phoneNumberType: current.phoneNumberType,
        assignedAt: assignment.purchaseDate,
        optOutsDeleted: removed.smsOptOut,
        pendingDeliveryReportsDeleted: removed.smsDelivery,
        repeatabilityClaimsDeleted: removed.smsRepeatability,
      },
    });
    // A redo counts only what was left, so the first write's counts are kept.
    const container = await geo.container('auditRecords');
    await container.items.create(audit).catch((error: unknown) => {
      if ((error as { code?: number }).code !== 409) throw error;
    });
    await this.#backToPool(geo, current);
  }

  async #backToPool(geo: GeoStore, number: PoolNumber): Promise<void> {
    const { assignment: _a, assignedResourceId: _r, ...rest } = number;
    if (!(await this.deps.pool.replace(geo, { ...rest, status: 'available' }, number._etag))) {
      throw new ServiceError('Conflict', `${number.phoneNumber} is being changed concurrently; try again.`, { target: 'phoneNumber' });
    }
  }

  /** Every number and reservation of a resource goes back to the pool (the resource is being deleted). */
  async releaseAll(geo: GeoStore, resource: Resource): Promise<number> {
    let released = 0;
    for (const number of await this.deps.pool.heldBy(geo, resource.id)) {
      if (number.status === 'assigned') {
        await this.release(geo, resource, number.phoneNumber, 'resourceDeleted');
        released += 1;
      } else if (number.reservation?.resourceId === resource.id) {
        const { reservation: _, ...rest } = number;
        await this.deps.pool.replace(geo, { ...rest, status: 'available' }, number._etag);
      }
    }
    return released;
  }

  /** Checks a capability change against what the number offers (a 400 naming the field). */
  checkCapabilities(number: PoolNumber, body: CapabilitiesBody): Capabilities {
    const current = number.assignment!.capabilities;
    const wanted: Capabilities = { calling: body.calling ?? current.calling, sms: body.sms ?? current.sms };
    for (const field of ['calling', 'sms'] as const) {
      if (!capabilityWithin(wanted[field], number.capabilities[field])) {
        throw new ServiceError('ValidationError', `${field}: ${number.phoneNumber} offers ${field} '${number.capabilities[field]}', not '${wanted[field]}'.`, { target: field });
      }
    }
    return wanted;
  }

  /** Sets the capabilities of a number of the resource. Safe to run again. */
  async updateCapabilities(geo: GeoStore, resource: Resource, phoneNumber: string, wanted: Capabilities): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const number = await this.deps.pool.assignedNumber(geo, resource.id, phoneNumber);
      if (!number || number.assignment?.releasingSince) return;
      if (number.assignment!.capabilities.calling === wanted.calling && number.assignment!.capabilities.sms === wanted.sms) return;
      if (await this.deps.pool.replace(geo, { ...number, assignment: { ...number.assignment!, capabilities: wanted } }, number._etag)) return;
    }
    throw new ServiceError('Conflict', `${phoneNumber} is being changed concurrently; try again.`, { target: 'phoneNumber' });
  }
}
