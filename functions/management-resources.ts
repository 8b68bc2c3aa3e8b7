import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-resources.ts). */
const handlers = () => import('./handlers/management-resources.js');

app.http('managementResourceList', {
  route: 'api/management/resources',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementResourceList'),
});

app.http('managementResource', {
  route: 'api/management/resources/{name}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementResource'),
});

app.http('managementResourceRegenerateKey', {
  route: 'api/management/resources/{name}/regenerateKey',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementResourceRegenerateKey'),
});
