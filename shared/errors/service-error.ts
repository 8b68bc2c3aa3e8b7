/**
 * The one error type of the service. Every failure a caller may see is a ServiceError with a code
 * from ERROR_STATUS; anything else is turned into an InternalError at the HTTP boundary.
 */
export const ERROR_STATUS = {
  BadRequest: 400,
  ValidationError: 400,
  InvalidApiVersion: 400,
  /** ACS e-mail: the sender username is not configured on the sender's domain. */
  InvalidSenderUserName: 400,
  Unauthorized: 401,
  /** ACS's answer to a Microsoft Entra ID token that does not verify (Teams token exchange). */
  InvalidAccessToken: 401,
  /** ACS's answer for a well-formed identity of another resource. */
  IdentityNotOwned: 401,
  Forbidden: 403,
  NotFound: 404,
  /** ACS e-mail: the sender's domain is not linked (here: not recorded or not verified) to the resource. */
  DomainNotLinked: 404,
  MethodNotAllowed: 405,
  Conflict: 409,
  PreconditionFailed: 412,
  PayloadTooLarge: 413,
  UnsupportedMediaType: 415,
  RangeNotSatisfiable: 416,
  TooManyRequests: 429,
  InternalError: 500,
  NotImplemented: 501,
  ServiceUnavailable: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ErrorDetail {
  code: string;
  message: string;
  target?: string;
}

export interface ServiceErrorOptions {
  target?: string;
  details?: ErrorDetail[];
  /** Extra response headers, e.g. Retry-After or Allow. */
  headers?: Record<string, string>;
}

export class ServiceError extends Error {
  readonly code: ErrorCode;
  readonly target?: string;
  readonly details?: ErrorDetail[];
  readonly headers?: Record<string, string>;

  constructor(code: ErrorCode, message: string, options: ServiceErrorOptions = {}) {
    super(message);
    this.name = 'ServiceError';
    this.code = code;
    this.target = options.target;
    this.details = options.details;
    this.headers = options.headers;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isServiceError(value: unknown): value is ServiceError {
  return value instanceof ServiceError;
}
