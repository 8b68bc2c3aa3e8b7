import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-retention.ts). */
const handlers = () => import('./handlers/management-retention.js');

app.http('managementLegalHolds', {
  route: 'api/management/resources/{name}/legalHolds',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementLegalHolds'),
});

app.http('managementLegalHoldRelease', {
  route: 'api/management/resources/{name}/legalHolds/{holdId}/release',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementLegalHoldRelease'),
});

app.http('managementRetentionPreview', {
  route: 'api/management/resources/{name}/retention/preview',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementRetentionPreview'),
});

app.http('managementPurgeRuns', {
  route: 'api/management/purgeRuns',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementPurgeRuns'),
});
