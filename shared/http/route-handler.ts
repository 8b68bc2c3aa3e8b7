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
  /**
   * The rest of the request's work, which its answer waits for, set by a handler that has answered:
   * it runs beside the operation log write (so it adds no store round trip to the answer), and a
   * rejection replaces the answer (rendered as any error is) and the record's status and duration.
   * A chat send's publication, and every user write's check that its caller was not being deleted
   * meanwhile (user-request.ts).
   */
  finish?: () => Promise<void>;
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

/** An operation's log record once written: an answer that changed afterwards rewrites its status and duration. */
export interface OperationRecord {
  amend(answer: Pick<OperationOutcome, 'status' | 'durationMs'>): Promise<void>;
}

export interface RouteServices {
  logger: Logger;
  /** Writes the operation log record of a data-plane request (management routes have no resource, so none). */
  recordOperation(outcome: OperationOutcome): Promise<OperationRecord>;
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
 * id in the body (the log line carries the error's name and scrubbed message, never a stack). The
 * operation log record is written beside whatever the handler left to finish (OperationScope.finish),
 * and rewritten if that changes the answer.
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
    const { finish } = operation;
    const finishing = finish ? finish().then(() => response, (error: unknown) => rendered(error, context)) : Promise.resolve(response);
    if (!operation.resource) return finishing;
    const outcome: OperationOutcome = {
      resource: operation.resource,
      functionName: context.functionName,
      method: request.method.toUpperCase(),
      status: response.status ?? 200,
      durationMs: Date.now() - started,
      correlationId: context.invocationId,
      subjects: operation.logSubjects ? [...operation.subjects] : [],
    };
    const [answer, record] = await Promise.all([finishing, recorded(outcome)]);
    // The rest of the work changed the answer after the record was written: the record says what the caller got.
    if (answer !== response && record) await amend(record, outcome, { status: answer.status ?? 200, durationMs: Date.now() - started });
    return answer;
  };

  /**
   * The operation happened whether or not its log record can be written: a failed write is reported
   * in telemetry (without the subjects), not to the caller.
   */
  async function recorded(outcome: OperationOutcome): Promise<OperationRecord | undefined> {
    try {
      return await routeServices().recordOperation(outcome);
    } catch (error) {
      logWriteFailed(outcome, error);
      return undefined;
    }
  }

  async function amend(record: OperationRecord, outcome: OperationOutcome, answer: Pick<OperationOutcome, 'status' | 'durationMs'>): Promise<void> {
    await record.amend(answer).catch((error: unknown) => logWriteFailed(outcome, error));
  }

  function logWriteFailed(outcome: OperationOutcome, error: unknown): void {
    routeServices().logger.warn('operation_log.write_failed', {
      correlationId: outcome.correlationId,
      resourceId: outcome.resource.id,
      function: outcome.functionName,
      errorName: error instanceof Error ? error.name : typeof error,
      detail: error instanceof Error ? error.message : undefined,
    });
  }

  async function respond(request: HttpRequest, context: InvocationContext, operation: OperationScope): Promise<HttpResponseInit> {
    const correlationId = context.invocationId;
    const handler = handlers[request.method.toUpperCase() as Method];
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
      return rendered(error, context);
    }
  }

  /** An error as the caller gets it: a ServiceError in the ACS shape, anything else a 500 with the correlation id (and a log line). */
  function rendered(error: unknown, context: InvocationContext): HttpResponseInit {
    const correlationId = context.invocationId;
    if (isServiceError(error)) return errorResponse(error, correlationId);
    // Invalid settings (e.g. strict residency without a geography's own accounts): the app start
    // already failed naming them; every request is refused without reaching a store.
    if (error instanceof SettingsError) return errorResponse(NOT_CONFIGURED, correlationId);
    routeServices().logger.error('request.failed', {
      correlationId,
      function: context.functionName,
      errorName: error instanceof Error ? error.name : typeof error,
      detail: error instanceof Error ? error.message : undefined,
    });
    return errorResponse(internalError(correlationId), correlationId);
  }
}
