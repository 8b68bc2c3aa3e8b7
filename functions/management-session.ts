import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-session.ts). */
const handlers = () => import('./handlers/management-session.js');

/**
 * Who the management API takes the caller for: the console signs in with it (the key typed in, or,
 * in Azure behind App Service Authentication, the signed-in principal).
 */
app.http('managementSession', {
  route: 'api/management/session',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementSession'),
});
