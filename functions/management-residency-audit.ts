import { app } from '@azure/functions';
import { managementRoute } from '../shared/http/management-route.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { accountLocationCheck } from '../shared/residency/account-locations.js';
import { auditResidency } from '../shared/residency/residency-audit.js';
import { services } from '../shared/services.js';

app.http('managementResidencyAudit', {
  route: 'api/management/residency/audit',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    POST: async () => {
      const svc = services();
      const report = await auditResidency({
        stores: svc.stores.all(),
        registry: svc.registry,
        accounts: accountLocationCheck({ settings: svc.settings, credential: svc.credential, fetch: globalThis.fetch }),
        now: () => svc.clock.now(),
      });
      return json(200, report);
    },
  }),
});
