import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-token-keys.ts). */
const handlers = () => import('./handlers/management-token-keys.js');

/** Rotates the access-token signing key now; tokens signed with the old one stay valid until they expire. */
app.http('managementTokenKeysRotate', {
  route: 'api/management/tokenKeys/rotate',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementTokenKeysRotate'),
});
