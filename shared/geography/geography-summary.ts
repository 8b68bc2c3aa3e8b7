import type { AuditSummary, GeographyAuditSummary } from '../residency/audit-summary.js';
import type { Resource } from '../resources/resource.js';
import { GEOGRAPHIES } from './geographies.js';

/**
 * Where data lives, per geography: whether it is enabled, how many resources it holds (active ones,
 * and those being deleted, whose data is still there), and what the last residency audit found
 * there. The console's map is drawn from this (GET /api/management/geographies).
 */
export interface GeographySummary {
  key: string;
  name: string;
  regions: readonly string[];
  enabled: boolean;
  whatsAppAdvancedMessaging: boolean;
  resourceCount: number;
  /** The last audit's result for this geography; null when no audit has run or it did not cover the geography. */
  audit: GeographyAuditSummary | null;
}

export function geographySummaries(input: { enabledKeys: string[]; resources: Pick<Resource, 'geographyKey'>[]; lastAudit: AuditSummary | undefined }): {
  value: GeographySummary[];
  lastAudit: Omit<AuditSummary, 'geographies'> | null;
} {
  const counts = new Map<string, number>();
  for (const resource of input.resources) counts.set(resource.geographyKey, (counts.get(resource.geographyKey) ?? 0) + 1);
  const audited = new Map((input.lastAudit?.geographies ?? []).map((g) => [g.key, g]));
  const { geographies: _geographies, ...lastAudit } = input.lastAudit ?? { geographies: [] };
  return {
    value: GEOGRAPHIES.map((g) => ({
      key: g.key,
      name: g.name,
      regions: g.regions,
      enabled: input.enabledKeys.includes(g.key),
      whatsAppAdvancedMessaging: g.whatsAppAdvancedMessaging,
      resourceCount: counts.get(g.key) ?? 0,
      audit: audited.get(g.key) ?? null,
    })),
    lastAudit: input.lastAudit ? (lastAudit as Omit<AuditSummary, 'geographies'>) : null,
  };
}
