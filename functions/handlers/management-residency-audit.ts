import type { HttpHandler } from '@azure/functions';
import { ServiceError } from '../../shared/errors/service-error.js';
import { managementRoute } from '../../shared/http/management-route.js';
import { json } from '../../shared/http/responses.js';
import { accountLocationCheck } from '../../shared/residency/account-locations.js';
import { auditSummary, AuditSummaries } from '../../shared/residency/audit-summary.js';
import { auditResidency } from '../../shared/residency/residency-audit.js';
import { services } from '../../shared/services.js';

export const managementResidencyAudit: HttpHandler = managementRoute({
  POST: async ({ correlationId }) => {
    const svc = services();
    const report = await auditResidency({
      stores: svc.stores.all(),
      registry: svc.registry,
      accounts: accountLocationCheck({ settings: svc.settings, credential: svc.credential, fetch: globalThis.fetch }),
      now: () => svc.clock.now(),
    });
    // The last result, for the console's map (GET below, and /api/management/geographies); the
    // audit's answer does not depend on it being kept.
    await new AuditSummaries(svc.control).save(auditSummary(report)).catch((error: unknown) => {
      svc.logger.warn('residency_audit.summary_not_saved', { correlationId, errorName: error instanceof Error ? error.name : 'unknown' });
    });
    return json(200, report);
  },
  GET: async () => {
    const last = await new AuditSummaries(services().control).last();
    if (!last) throw new ServiceError('NotFound', 'No residency audit has run yet: POST /api/management/residency/audit runs one.');
    return json(200, last);
  },
});
