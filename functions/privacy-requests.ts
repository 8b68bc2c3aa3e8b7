import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/privacy-requests.ts). */
const handlers = () => import('./handlers/privacy-requests.js');

app.http('privacyRequests', {
  route: 'privacy/requests',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'privacyRequests'),
});

app.http('privacyRequest', {
  route: 'privacy/requests/{requestId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'privacyRequest'),
});

app.http('privacyRequestResult', {
  route: 'privacy/requests/{requestId}/result',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'privacyRequestResult'),
});

app.http('erasureReceipts', {
  route: 'privacy/receipts',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'erasureReceipts'),
});

app.http('erasureReceipt', {
  route: 'privacy/receipts/{receiptId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'erasureReceipt'),
});
