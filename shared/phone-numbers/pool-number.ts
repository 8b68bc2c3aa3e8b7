import * as z from 'zod';

/**
 * A phone number of a geography's pool: the operator imports the numbers it owns from its carriers
 * (management API), and resources take them from the pool of their own geography (search and
 * purchase) and give them back (release). The item lives in the geography's `phoneNumbers`
 * container, partition `/poolGeography`, id = the E.164 number. It names no `resourceId`: the number
 * belongs to the pool and is lent to a resource (`assignedResourceId`), so deleting the resource
 * gives it back instead of deleting it.
 */
export const PHONE_NUMBER_TYPES = ['geographic', 'tollFree', 'mobile'] as const;
export const ASSIGNMENT_TYPES = ['person', 'application'] as const;
export const CAPABILITY_VALUES = ['none', 'inbound', 'outbound', 'inbound+outbound'] as const;

export type PhoneNumberType = (typeof PHONE_NUMBER_TYPES)[number];
export type AssignmentType = (typeof ASSIGNMENT_TYPES)[number];
export type CapabilityValue = (typeof CAPABILITY_VALUES)[number];

export const e164Schema = z.string({ error: 'must be an E.164 phone number such as +14255550123' }).regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14255550123');

export const capabilitiesSchema = z.strictObject({
  calling: z.enum(CAPABILITY_VALUES, { error: `must be one of ${CAPABILITY_VALUES.join(', ')}` }),
  sms: z.enum(CAPABILITY_VALUES, { error: `must be one of ${CAPABILITY_VALUES.join(', ')}` }),
});
export type Capabilities = z.infer<typeof capabilitiesSchema>;

export const costSchema = z.strictObject({
  amount: z.number({ error: 'must be a number' }).min(0, 'must not be negative'),
  currencyCode: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 currency code such as USD'),
  billingFrequency: z.literal('monthly', { error: "must be 'monthly'" }).default('monthly'),
});
export type Cost = z.infer<typeof costSchema>;

/** One number of a pool import (management API). */
export const importedNumberSchema = z.strictObject({
  phoneNumber: e164Schema,
  countryCode: z.string({ error: 'must be an ISO 3166-1 alpha-2 country code such as US' }).regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 country code such as US'),
  phoneNumberType: z.enum(PHONE_NUMBER_TYPES, { error: `must be one of ${PHONE_NUMBER_TYPES.join(', ')}` }),
  assignmentType: z.enum(ASSIGNMENT_TYPES, { error: `must be one of ${ASSIGNMENT_TYPES.join(', ')}` }),
  /** What the carrier offers on this number: the most a resource may turn on. */
  capabilities: capabilitiesSchema,
  /** The carrier connection that serves it (a carrier configured for the pool's geography). */
  carrier: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must name a configured carrier (lower-case letters, digits, - and _)').default('default'),
  areaCode: z.string().regex(/^\d{1,6}$/, 'must be 1-6 digits').optional(),
  locality: z.string().min(1).max(100).optional(),
  administrativeDivision: z.strictObject({ localizedName: z.string().min(1).max(100), abbreviatedName: z.string().min(1).max(10) }).optional(),
  cost: costSchema.optional(),
});
export type ImportedNumber = z.infer<typeof importedNumberSchema>;

export const poolImportSchema = z.strictObject({
  numbers: z.array(importedNumberSchema, { error: 'numbers must be a list of phone numbers' }).min(1, 'numbers must list at least one phone number').max(1000, 'at most 1000 numbers per import'),
});

export type PoolStatus = 'available' | 'reserved' | 'assigned';

export interface PoolNumber extends ImportedNumber {
  id: string;
  kind: 'poolNumber';
  /** The geography whose pool this is (the partition key). */
  poolGeography: string;
  importedAt: string;
  status: PoolStatus;
  /** Held for a search of a resource until `expiresAt` (then available again). */
  reservation?: { resourceId: string; searchId: string; expiresAt: string };
  /** The resource the number is assigned to. */
  assignedResourceId?: string;
  assignment?: {
    assignmentId: string;
    /** What the resource has turned on (within `capabilities`). */
    capabilities: Capabilities;
    purchaseDate: string;
    /** Set while a release is under way: the number sends and receives nothing more for the resource. */
    releasingSince?: string;
  };
  _etag?: string;
}

/** Whether `wanted` asks for no more than `offered`. */
export function capabilityWithin(wanted: CapabilityValue, offered: CapabilityValue): boolean {
  const parts = (value: CapabilityValue) => (value === 'none' ? [] : value.split('+'));
  return parts(wanted).every((part) => parts(offered).includes(part));
}

export const canSend = (capabilities: Capabilities) => capabilities.sms === 'outbound' || capabilities.sms === 'inbound+outbound';
export const canReceive = (capabilities: Capabilities) => capabilities.sms === 'inbound' || capabilities.sms === 'inbound+outbound';

/** ACS's id of a number: its digits without the plus. */
export const numberId = (phoneNumber: string) => phoneNumber.replace(/^\+/, '');

/** A number from a route parameter, with or without its plus. */
export function normalizeNumber(value: string): string | undefined {
  const candidate = value.startsWith('+') ? value : `+${value}`;
  return e164Schema.safeParse(candidate).success ? candidate : undefined;
}

/** A number as the Phone Numbers API answers it (PurchasedPhoneNumber). */
export function purchasedNumberView(number: PoolNumber): Record<string, unknown> {
  return {
    id: numberId(number.phoneNumber),
    phoneNumber: number.phoneNumber,
    countryCode: number.countryCode,
    phoneNumberType: number.phoneNumberType,
    capabilities: number.assignment?.capabilities ?? number.capabilities,
    assignmentType: number.assignmentType,
    purchaseDate: number.assignment?.purchaseDate,
    ...(number.cost ? { cost: number.cost } : {}),
  };
}

/** A pool number as the management API shows it. */
export function poolNumberView(number: PoolNumber): Record<string, unknown> {
  // Without the item's id (the number again), kind and Cosmos's own fields (_etag, _rid, _ts, ...).
  return Object.fromEntries(Object.entries(number).filter(([key]) => key !== 'id' && key !== 'kind' && key !== 'changeStamp' && !key.startsWith('_')));
}
