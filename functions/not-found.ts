import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/not-found.ts). */
const handlers = () => import('./handlers/not-found.js');

/**
 * Lowest-precedence route: a REST-level client's request that carries its path in the endpoint's
 * `resource` parameter goes to its route (shared/http/query-routes.ts); anything else no other
 * function serves gets an ACS-shaped 404.
 */
app.http('notFound', {
  route: '{*path}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'notFound'),
});
