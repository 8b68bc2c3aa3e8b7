import type { HttpHandler } from '@azure/functions';
import { isServiceError, ServiceError } from '../../shared/errors/service-error.js';
import { serveQueryRoute } from '../../shared/http/query-routes.js';
import { errorResponse } from '../../shared/http/responses.js';

export const notFound: HttpHandler = async (request, context) => {
  try {
    const routed = await serveQueryRoute(request, context);
    if (routed) return routed;
  } catch (error) {
    if (isServiceError(error)) return errorResponse(error, context.invocationId);
    throw error;
  }
  return errorResponse(new ServiceError('NotFound', `No operation is served at ${new URL(request.url).pathname}.`), context.invocationId);
};
