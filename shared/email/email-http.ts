import type { HttpRequest } from '@azure/functions';
import { isServiceError, ServiceError } from '../errors/service-error.js';
import type { OperationScope } from '../http/route-handler.js';
import { addressKey, type EmailMessageInput } from './email-message.js';

/** Request and response shaping for the e-mail trigger adapters (functions/email.ts). */

/**
 * Where the SDK polls the operation: the origin the caller used (as `nextLink`s do), the status path,
 * and the caller's `resource` and `api-version` parameters (the SDK keeps and signs them).
 */
export function operationLocation(request: HttpRequest, operationId: string): string {
  const incoming = new URL(request.url);
  const url = new URL(`/emails/operations/${operationId}`, incoming.origin);
  for (const name of ['resource', 'api-version']) {
    const value = incoming.searchParams.get(name);
    if (value !== null) url.searchParams.set(name, value);
  }
  return url.toString();
}

/** The operation log names everyone a send involves: the sender, every recipient and reply-to address, in lower case. */
export function noteEmailSubjects(operation: OperationScope, message: EmailMessageInput): void {
  const { to = [], cc = [], bcc = [] } = message.recipients;
  for (const { address } of [{ address: message.senderAddress }, ...to, ...cc, ...bcc, ...(message.replyTo ?? [])]) operation.subjects.add(addressKey(address));
}

/** ACS's e-mail errors carry their code in `x-ms-error-code` too (the spec's error responses). */
export function withErrorCodeHeader<A extends unknown[], R>(handler: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    try {
      return await handler(...args);
    } catch (error) {
      if (!isServiceError(error)) throw error;
      throw new ServiceError(error.code, error.message, {
        ...(error.target !== undefined ? { target: error.target } : {}),
        ...(error.details ? { details: error.details } : {}),
        headers: { ...error.headers, 'x-ms-error-code': error.code },
      });
    }
  };
}
