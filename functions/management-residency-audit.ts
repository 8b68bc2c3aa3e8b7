import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-residency-audit.ts). */
const handlers = () => import('./handlers/management-residency-audit.js');

app.http('managementResidencyAudit', {
  route: 'api/management/residency/audit',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementResidencyAudit'),
});
