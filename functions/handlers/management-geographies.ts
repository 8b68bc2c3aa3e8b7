import type { HttpHandler } from '@azure/functions';
import { geographySummaries } from '../../shared/geography/geography-summary.js';
import { managementRoute } from '../../shared/http/management-route.js';
import { json } from '../../shared/http/responses.js';
import { AuditSummaries } from '../../shared/residency/audit-summary.js';
import { services } from '../../shared/services.js';

export const managementGeographies: HttpHandler = managementRoute({
  GET: async () => {
    const svc = services();
    const [resources, lastAudit] = await Promise.all([svc.resources.list(), new AuditSummaries(svc.control).last()]);
    return json(200, geographySummaries({ enabledKeys: svc.settings.enabledGeographies, resources, lastAudit }));
  },
});
