import { app } from '@azure/functions';
import { isServiceError, ServiceError } from '../shared/errors/service-error.js';
import { serveQueryRoute } from '../shared/http/query-routes.js';
import { errorResponse } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';

/**
 * Lowest-precedence route: a REST-level client's request that carries its path in the endpoint's
 * `resource` parameter goes to its route (shared/http/query-routes.ts); anything else no other
 * function serves gets an ACS-shaped 404.
 */
app.http('notFound', {
  route: '{*path}',
  methods: [...ALL_METHODS],
  handler: async (request, context) => {
    try {
      const routed = await serveQueryRoute(request, context);
      if (routed) return routed;
    } catch (error) {
      if (isServiceError(error)) return errorResponse(error, context.invocationId);
      throw error;
    }
    return errorResponse(new ServiceError('NotFound', `No operation is served at ${new URL(request.url).pathname}.`), context.invocationId);
  },
});
