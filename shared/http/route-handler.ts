import type { HttpHandler, HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import { isServiceError, ServiceError } from '../errors/service-error.js';
import type { Resource } from '../resources/resource.js';
import type { Logger } from '../telemetry/logger.js';
import { requireSafeRouteParams } from './id-param.js';
import { SettingsError } from '../config/settings.js';
import { errorResponse, internalError } from './responses.js';
import type { Method } from './methods.js';

const NOT_CONFIGURED = new ServiceError('ServiceUnavailable', 'The service cannot serve: its settings are invalid (its start-up log names them).');


export interface RequestScope {
  request: HttpRequest;
  context: InvocationContext;
  /** The invocation id: returned to the caller on errors and written to every log line. */
  correlationId: string;
  /** What the operation log records about this request (see shared/oplog). */
  operation: OperationScope;
}

export interface OperationScope {
  /** Set once the request's resource is known: from then on the operation is logged in its geography. */
  resource?: Resource;
  /** The people the operation involves, as raw ids. */
  subjects: Set<string>;
  /** False for operations whose subjects must not be logged (privacy requests name the people they erase). */
  logSubjects: boolean;
}

/** One finished operation, for the operation log. */
export interface OperationOutcome {
  resource: Resource;
  functionName: string;
  method: string;
  status: number;
  durationMs: number;
  correlationId: string;
  subjects: string[];
}

export interface RouteServices {
  logger: Logger;
  /** Writes the operation log record of a data-plane request (management routes have no resource, so none). */
  recordOperation(outcome: OperationOutcome): Promise<void>;
  /** Rejects with a ServiceError while the app cannot serve (its declared stores are missing). */
  readiness?: { ready(): Promise<void> };
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
  routeServices: () => RouteServices,
): HttpHandler {
  const allowed = Object.keys(handlers).join(', ');
  return async (request, context) => {
    const started = Date.now();
    const operation: OperationScope = { subjects: new Set(), logSubjects: true };
    const response = await respond(request, context, operation);
    if (operation.resource) {
      const outcome: OperationOutcome = {
        resource: operation.resource,
        functionName: context.functionName,
        method: request.method.toUpperCase(),
        status: response.status ?? 200,
        durationMs: Date.now() - started,
        correlationId: context.invocationId,
        subjects: operation.logSubjects ? [...operation.subjects] : [],
      };
      // The operation happened whether or not its log record can be written: a failed write is
      // reported in telemetry (without the subjects), not to the caller.
      await routeServices()
        .recordOperation(outcome)
        .catch((error: unknown) =>
          routeServices().logger.warn('operation_log.write_failed', {
            correlationId: outcome.correlationId,
            resourceId: outcome.resource.id,
            function: outcome.functionName,
            errorName: error instanceof Error ? error.name : typeof error,
            detail: error instanceof Error ? error.message : undefined,
          }),
        );
    }
    return response;
  };

  async function respond(request: HttpRequest, context: InvocationContext, operation: OperationScope): Promise<HttpResponseInit> {
    const correlationId = context.invocationId;
    const handler = handlers[request.method.toUpperCase() as Method];
    const logger = () => routeServices().logger;
    try {
      if (!handler) {
        throw new ServiceError('MethodNotAllowed', `Method ${request.method} is not allowed here; use ${allowed}.`, {
          headers: { allow: allowed },
        });
      }
      // An id that is a dot segment or holds a separator never reaches a handler (or a store).
      requireSafeRouteParams(request);
      await routeServices().readiness?.ready();
      const response = await handler({ request, context, correlationId, operation });
      return { ...response, headers: { 'x-ms-correlation-id': correlationId, ...(response.headers as Record<string, string>) } };
    } catch (error) {
      if (isServiceError(error)) return errorResponse(error, correlationId);
      // Invalid settings (e.g. strict residency without a geography's own accounts): the app start
      // already failed naming them; every request is refused without reaching a store.
      if (error instanceof SettingsError) return errorResponse(NOT_CONFIGURED, correlationId);
      logger().error('request.failed', {
        correlationId,
        function: context.functionName,
        errorName: error instanceof Error ? error.name : typeof error,
        detail: error instanceof Error ? error.message : undefined,
      });
      return errorResponse(internalError(correlationId), correlationId);
    }
  }
}
