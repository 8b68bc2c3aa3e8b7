import * as z from 'zod';
import { findGeography, geographyByKey } from '../geography/geographies.js';
import { ServiceError } from '../errors/service-error.js';
import { effectiveRetention, retentionChangeSchema, type RetentionChange } from './retention-settings.js';

/** A resource as the registry keeps it. `id` is immutable; `name` is unique (case-insensitive). */
export interface Resource {
  id: string;
  name: string;
  geographyKey: string;
  eventPayloads: 'full' | 'minimal';
  /** Retention periods the resource chose; the rest are the defaults (see retention-settings.ts). */
  retention?: RetentionChange;
  createdAt: string;
  updatedAt: string;
  keys: { primary: string; secondary: string };
  state: 'creating' | 'active' | 'deleting' | 'deleted';
  deletion?: DeletionReport;
}

export interface DeletionReport {
  resourceId: string;
  name: string;
  geography: string;
  deletedAt: string;
  removed: { cosmos: Record<string, number>; blobs: Record<string, number> };
  /** Outbox entries whose events were not yet published: kept until they are, then pruned. */
  eventsAwaitingPublication: number;
}

/** Resource ids are UUIDs (they prefix every blob name and identity id of the resource). */
export const isResourceId = (value: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value);

/** ACS resource names: 1-63 letters, digits and hyphens, not starting or ending with a hyphen. */
export const resourceNameSchema = z
  .string()
  .regex(/^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, 'must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen');

export const geographyNameSchema = z.string({ error: 'geography is required' }).transform((value, ctx) => {
  const geography = findGeography(value);
  if (!geography) {
    ctx.addIssue({ code: 'custom', message: `unknown geography '${value}'; use one of the 16 ACS geographies (e.g. Europe, Japan, United States)` });
    return z.NEVER;
  }
  return geography;
});

export const putResourceBodySchema = z.strictObject({
  geography: geographyNameSchema,
  eventPayloads: z.enum(['full', 'minimal']).optional(),
  retention: retentionChangeSchema.optional(),
});
export type PutResourceBody = z.infer<typeof putResourceBodySchema>;

export const regenerateKeyBodySchema = z.strictObject({
  key: z.enum(['primary', 'secondary'], { error: "key must be 'primary' or 'secondary'" }),
});

export function parseResourceName(name: string | undefined): string {
  const result = resourceNameSchema.safeParse(name ?? '');
  if (!result.success) {
    throw new ServiceError('ValidationError', `Invalid resource name '${name ?? ''}': ${result.error.issues[0]!.message}.`, {
      target: 'name',
    });
  }
  return result.data;
}

/** The endpoint the ACS SDKs are given: the resource is chosen by query (the SDKs refuse an endpoint with a path). */
export function resourceEndpoint(baseUrl: string, name: string): string {
  const url = new URL(baseUrl);
  url.pathname = '/';
  url.search = `?resource=${encodeURIComponent(name.toLowerCase())}`;
  return url.toString();
}

export function connectionString(endpoint: string, key: string): string {
  return `endpoint=${endpoint};accesskey=${key}`;
}

/** The API shape of a resource; keys only where asked for. */
export function resourceView(resource: Resource, baseUrl: string, withKeys: boolean): Record<string, unknown> {
  const geography = geographyByKey(resource.geographyKey);
  const endpoint = resourceEndpoint(baseUrl, resource.name);
  const view: Record<string, unknown> = {
    id: resource.id,
    name: resource.name,
    geography: geography.name,
    regions: geography.regions,
    endpoint,
    eventPayloads: resource.eventPayloads,
    retention: effectiveRetention(resource.retention),
    createdAt: resource.createdAt,
    state: resource.state,
  };
  if (withKeys) {
    view.primaryKey = resource.keys.primary;
    view.secondaryKey = resource.keys.secondary;
    view.connectionString = connectionString(endpoint, resource.keys.primary);
    view.secondaryConnectionString = connectionString(endpoint, resource.keys.secondary);
  }
  return view;
}
