import { app } from '@azure/functions';
import { ServiceError } from '../shared/errors/service-error.js';
import { errorResponse } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';

/** Lowest-precedence route: anything no other function serves gets an ACS-shaped 404. */
app.http('notFound', {
  route: '{*path}',
  methods: [...ALL_METHODS],
  handler: async (request, context) =>
    errorResponse(
      new ServiceError('NotFound', `No operation is served at ${new URL(request.url).pathname}.`),
      context.invocationId,
    ),
});
