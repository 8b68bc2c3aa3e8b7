import type { Container } from '@azure/cosmos';
import { phoneRawId } from '../oplog/subject-ids.js';
import type { GeoStore } from '../stores/geo-store.js';
import type { AssignmentType, Capabilities, Cost, PhoneNumberType } from './pool-number.js';

/**
 * What a resource's use of the Phone Numbers API leaves in its geography (container
 * `phoneNumberRecords`, partition `/resourceId`): its searches (the reservation they hold), its
 * long-running operations (the ACS operation status), and one assignment fact per number it held
 * (when it was assigned and released). Every record lists the numbers it names in `subjects` (raw
 * ids, `4:+...`), which is how a data subject request finds them. Searches and operations expire
 * (`expiresAt`, removed by the `smsHousekeeping` timer); assignment facts stay until the resource
 * is deleted or an erasure request removes them.
 */
export const SEARCH_MINUTES = 15;
/** How long an operation's status stays readable. */
export const OPERATION_HOURS = 24;

export interface NumberSearchRecord {
  id: string;
  resourceId: string;
  kind: 'phoneNumberSearch';
  countryCode: string;
  phoneNumberType: PhoneNumberType;
  assignmentType: AssignmentType;
  capabilities: Capabilities;
  areaCode?: string;
  quantity: number;
  phoneNumbers: string[];
  cost?: Cost;
  createdAt: string;
  searchExpiresBy: string;
  /** The purchase that took it (a repeated purchase answers that operation). */
  purchaseOperationId?: string;
  subjects: string[];
  expiresAt: string;
}

export type OperationType = 'search' | 'purchase' | 'releasePhoneNumber' | 'updatePhoneNumberCapabilities';
export type OperationStatus = 'notStarted' | 'running' | 'succeeded' | 'failed';

export interface NumberOperationRecord {
  id: string;
  resourceId: string;
  kind: 'phoneNumberOperation';
  operationType: OperationType;
  status: OperationStatus;
  createdDateTime: string;
  lastActionDateTime: string;
  /** Path (under the endpoint) of what the operation made: a search result or the updated number. */
  resourcePath?: string;
  error?: { code: string; message: string };
  /** What the operation works on, so an interrupted one can be finished. */
  input: { phoneNumber?: string; searchId?: string; capabilities?: Partial<Capabilities> };
  subjects: string[];
  expiresAt: string;
}

export interface AssignmentRecord {
  id: string;
  resourceId: string;
  kind: 'phoneNumberAssignment';
  phoneNumber: string;
  countryCode: string;
  phoneNumberType: PhoneNumberType;
  assignmentType: AssignmentType;
  assignedAt: string;
  releasedAt?: string;
  searchId: string;
  subjects: string[];
}

export type NumberRecord = NumberSearchRecord | NumberOperationRecord | AssignmentRecord;

export const numberSubjects = (numbers: readonly string[]) => numbers.map(phoneRawId);

export class NumberRecords {
  container(geo: GeoStore): Promise<Container> {
    return geo.container('phoneNumberRecords');
  }

  async read<T extends NumberRecord>(geo: GeoStore, resourceId: string, id: string, kind: T['kind']): Promise<T | undefined> {
    try {
      const { resource } = await (await geo.existingContainer('phoneNumberRecords')).item(id, resourceId).read<T>();
      return resource?.kind === kind ? resource : undefined;
    } catch (error) {
      if ((error as { code?: number }).code === 404) return undefined;
      throw error;
    }
  }

  async upsert(geo: GeoStore, record: NumberRecord): Promise<void> {
    await (await this.container(geo)).items.upsert(record);
  }

  /** Writes a record unless one with its id exists; false when it did. */
  async create(geo: GeoStore, record: NumberRecord): Promise<boolean> {
    try {
      await (await this.container(geo)).items.create(record);
      return true;
    } catch (error) {
      if ((error as { code?: number }).code === 409) return false;
      throw error;
    }
  }
}
