import type { HttpResponseInit } from '@azure/functions';
import { ServiceError } from '../errors/service-error.js';

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponseInit {
  return { status, jsonBody: body, headers: { 'content-type': 'application/json; charset=utf-8', ...headers } };
}

export function noContent(headers: Record<string, string> = {}): HttpResponseInit {
  return { status: 204, headers };
}

/** Renders an error in the ACS shape: {"error": {"code", "message", "target"?, "details"?}}. */
export function errorResponse(error: ServiceError, correlationId: string): HttpResponseInit {
  const body: Record<string, unknown> = { code: error.code, message: error.message };
  if (error.target !== undefined) body.target = error.target;
  if (error.details !== undefined && error.details.length > 0) body.details = error.details;
  return json(error.status, { error: body }, { ...error.headers, 'x-ms-correlation-id': correlationId });
}

export function internalError(correlationId: string): ServiceError {
  return new ServiceError(
    'InternalError',
    `An unexpected error occurred. Quote correlation id ${correlationId} when reporting it.`,
  );
}
