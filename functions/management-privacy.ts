import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

const base = 'api/management/resources/{name}/privacy';

/** The handlers, loaded on the first invocation (functions/handlers/management-privacy.ts). */
const handlers = () => import('./handlers/management-privacy.js');

app.http('managementPrivacyRequests', {
  route: `${base}/requests`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementPrivacyRequests'),
});

app.http('managementPrivacyRequest', {
  route: `${base}/requests/{requestId}`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementPrivacyRequest'),
});

app.http('managementPrivacyRequestResult', {
  route: `${base}/requests/{requestId}/result`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementPrivacyRequestResult'),
});

app.http('managementErasureReceipts', {
  route: `${base}/receipts`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementErasureReceipts'),
});

app.http('managementErasureReceipt', {
  route: `${base}/receipts/{receiptId}`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementErasureReceipt'),
});
