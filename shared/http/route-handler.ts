import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isServiceError, ServiceError } from '../errors/service-error.js';
import type { Logger } from '../telemetry/logger.js';
import { errorResponse, internalError } from './responses.js';

export const ALL_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export type Method = (typeof ALL_METHODS)[number];

export interface RequestScope {
  request: HttpRequest;
  context: InvocationContext;
  /** The invocation id: returned to the caller on errors and written to every log line. */
  correlationId: string;
}

export type MethodHandler = (scope: RequestScope) => Promise<HttpResponseInit>;

/** Wraps every method handler the same way (authentication, resolving the resource, ...). */
export function wrapEach<H>(handlers: Partial<Record<Method, H>>, wrap: (handler: H) => MethodHandler): Partial<Record<Method, MethodHandler>> {
  return Object.fromEntries(Object.entries(handlers).map(([method, handler]) => [method, wrap(handler as H)])) as Partial<Record<Method, MethodHandler>>;
}

/**
 * Turns per-method handlers into one function handler: an unknown method is a 405 with Allow, a
 * ServiceError is rendered in the ACS error shape, anything else is a 500 with only a correlation
 * id in the body (the log line carries the error's name and scrubbed message, never a stack).
 */
export function routeHandler(
  handlers: Partial<Record<Method, MethodHandler>>,
  logger: () => Logger,
): HttpHandler {
  const allowed = Object.keys(handlers).join(', ');
  return async (request, context) => {
    const correlationId = context.invocationId;
    const handler = handlers[request.method.toUpperCase() as Method];
    try {
      if (!handler) {
        throw new ServiceError('MethodNotAllowed', `Method ${request.method} is not allowed here; use ${allowed}.`, {
          headers: { allow: allowed },
        });
      }
      const response = await handler({ request, context, correlationId });
      return { ...response, headers: { 'x-ms-correlation-id': correlationId, ...(response.headers as Record<string, string>) } };
    } catch (error) {
      if (isServiceError(error)) return errorResponse(error, correlationId);
      logger().error('request.failed', {
        correlationId,
        function: context.functionName,
        errorName: error instanceof Error ? error.name : typeof error,
        detail: error instanceof Error ? error.message : undefined,
      });
      return errorResponse(internalError(correlationId), correlationId);
    }
  };
}
