import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-geographies.ts). */
const handlers = () => import('./handlers/management-geographies.js');

/** The 16 geographies: enabled or not, resources held, the last residency audit's result in each. */
app.http('managementGeographies', {
  route: 'api/management/geographies',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementGeographies'),
});
