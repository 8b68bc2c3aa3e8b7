import type { NumberRecord } from '../../phone-numbers/number-records.js';
import type { SmsRecord } from '../../sms/sms-records.js';
import { deleteIfExists } from '../../stores/cosmos-items.js';
import type { GeoContainerName } from '../../stores/store-catalogue.js';
import { itemsNaming, keyedPage } from './keyed-walk.js';
import { heldByIdentities, inParallel, type FoundItem, type ItemKind, type PrivacyContext, type SubjectSource } from './subject-source.js';

/**
 * Phone numbers as data subjects: the records of the Phone Numbers API that name a number
 * (assignment facts, searches and operations, container `phoneNumberRecords`) and of SMS that name
 * a recipient (opt-outs, pending delivery reports, repeatability claims, container `smsRecords`).
 * Both file the numbers they name under `subjects` (raw ids), so each is one indexed lookup per
 * subject in the resource's partition. None holds message text. Operation log records and outbox
 * entries that name a number are found by their own sources.
 */
function recordSource<R extends { id: string; kind: string; subjects: string[] }>(options: {
  name: string;
  container: GeoContainerName;
  section: string;
  describe: (record: R, own: Set<string>) => { kind: ItemKind; view: Record<string, unknown>; facts: Record<string, unknown> };
}): SubjectSource {
  return {
    name: options.name,
    section: options.section,
    async page(ctx: PrivacyContext, cursor) {
      const container = await ctx.geo.container(options.container);
      const { records, next } = await keyedPage<R>(ctx, cursor, (key, after, limit) => itemsNaming<R>(container, ctx.resource.id, { select: '*', field: 'subjects' }, key, after, limit), (r) => r.subjects);
      const own = new Set(ctx.subjects.phoneNumbers);
      const items: FoundItem[] = records.map((record) => {
        const { kind, view, facts } = options.describe(record, own);
        return { kind, id: record.id, heldBy: heldByIdentities(ctx.holds, record.subjects), view, facts, ref: record.id };
      });
      return { items, next };
    },
    async erase(ctx, refs) {
      const container = await ctx.geo.container(options.container);
      await inParallel(refs as string[], (id) => deleteIfExists(container, id, ctx.resource.id));
    },
  };
}

export const phoneNumberSource = recordSource<NumberRecord>({
  name: 'phoneNumberRecords',
  container: 'phoneNumberRecords',
  section: 'phoneNumbers',
  describe: (record, own) => {
    switch (record.kind) {
      case 'phoneNumberAssignment': {
        const view = { phoneNumber: record.phoneNumber, countryCode: record.countryCode, phoneNumberType: record.phoneNumberType, assignmentType: record.assignmentType, assignedAt: record.assignedAt, releasedAt: record.releasedAt ?? null };
        return { kind: 'phoneNumberAssignment', view: { record: 'assignment', ...view }, facts: { assignedAt: record.assignedAt, released: record.releasedAt !== undefined } };
      }
      case 'phoneNumberSearch':
        return {
          kind: 'phoneNumberSearch',
          view: { record: 'search', searchId: record.id, countryCode: record.countryCode, phoneNumberType: record.phoneNumberType, phoneNumbers: record.phoneNumbers.filter((n) => own.has(n)), createdAt: record.createdAt, searchExpiresBy: record.searchExpiresBy },
          facts: { createdAt: record.createdAt, expiresAt: record.expiresAt },
        };
      case 'phoneNumberOperation':
        return {
          kind: 'phoneNumberOperation',
          view: { record: 'operation', operationId: record.id, operationType: record.operationType, status: record.status, createdDateTime: record.createdDateTime },
          facts: { operationType: record.operationType, status: record.status, expiresAt: record.expiresAt },
        };
    }
  },
});

export const smsSource = recordSource<SmsRecord>({
  name: 'smsRecords',
  container: 'smsRecords',
  section: 'sms',
  describe: (record) => {
    switch (record.kind) {
      case 'smsOptOut':
        return { kind: 'smsOptOut', view: { record: 'optOut', phoneNumber: record.phoneNumber, recipient: record.recipient, optedOutAt: record.optedOutAt }, facts: { optedOutAt: record.optedOutAt } };
      case 'smsDelivery':
        return {
          kind: 'smsDeliveryReportPending',
          view: { record: 'deliveryReportPending', messageId: record.messageId, from: record.phoneNumber, to: record.recipient, segment: record.segment, segments: record.segments, submittedAt: record.submittedAt },
          facts: { submittedAt: record.submittedAt, expiresAt: record.expiresAt },
        };
      case 'smsRepeatability':
        return {
          kind: 'smsRepeatability',
          view: { record: 'repeatability', messageId: record.messageId, from: record.phoneNumber, to: record.recipient, firstSent: record.firstSent, outcome: record.outcome ?? null },
          facts: { firstSent: record.firstSent, expiresAt: record.expiresAt },
        };
    }
  },
});
