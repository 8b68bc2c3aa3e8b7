import type { ErrorCode } from '../errors/service-error.js';
import { ERROR_STATUS } from '../errors/service-error.js';
import type { GraphError } from './graph-client.js';

/**
 * How a failure of the WhatsApp Business Cloud API becomes an ACS error: by WhatsApp's error code
 * (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes), else by its HTTP
 * status. `channelCode` is WhatsApp's code, as ACS's events carry it (`error.channelCode`).
 *
 *   access token refused (190, HTTP 401), missing permission (3, 10, 200-299), account
 *   restricted (368, 131031, 131042, 131045, 133010)                 -> 403 Forbidden
 *   rate limits (4, 80007, 130429, 131048, 131056)                   -> 429 TooManyRequests, Retry-After
 *   WhatsApp unavailable (1, 2, 131000, 131016, 133004), no answer,
 *   a timeout, HTTP 5xx                                                -> 503 ServiceUnavailable, Retry-After
 *   anything else the API refuses (bad recipient 131026/131030/131047,
 *   parameters 100/131008/131009, media 131052/131053, templates 132xxx) -> 400 BadRequest
 */
export interface UpstreamFailure {
  code: ErrorCode;
  status: number;
  message: string;
  channelCode?: string;
  retryAfterSeconds?: number;
}

const FORBIDDEN = new Set([3, 10, 190, 368, 131031, 131042, 131045, 133010]);
const THROTTLED = new Set([4, 80007, 130429, 131048, 131056]);
const UNAVAILABLE = new Set([1, 2, 131000, 131016, 133004]);

function classify(error: GraphError): { code: ErrorCode; retryAfterSeconds?: number } {
  const code = error.code;
  if (error.unavailable) return { code: 'ServiceUnavailable', retryAfterSeconds: 5 };
  if (code !== undefined && THROTTLED.has(code)) return { code: 'TooManyRequests', retryAfterSeconds: 60 };
  if (code !== undefined && UNAVAILABLE.has(code)) return { code: 'ServiceUnavailable', retryAfterSeconds: 5 };
  if ((code !== undefined && (FORBIDDEN.has(code) || (code >= 200 && code <= 299))) || error.status === 401 || error.status === 403) return { code: 'Forbidden' };
  if (error.status === 429) return { code: 'TooManyRequests', retryAfterSeconds: 60 };
  if (error.status >= 500) return { code: 'ServiceUnavailable', retryAfterSeconds: 5 };
  return { code: 'BadRequest' };
}

/** The ACS error for a Graph failure; `what` says what was being done ("the message to to.0 was not sent"). */
export function upstreamFailure(error: GraphError, what: string): UpstreamFailure {
  const { code, retryAfterSeconds } = classify(error);
  const channelCode = error.code === undefined ? undefined : String(error.code);
  const reason = channelCode === undefined ? error.message : `WhatsApp error ${channelCode}${error.subcode ? `/${error.subcode}` : ''}: ${error.message}${error.details && !error.message.includes(error.details) ? ` (${error.details})` : ''}`;
  const hint = code === 'Forbidden' && (error.code === 190 || error.status === 401) ? " Renew the access token in the app setting the channel names." : '';
  return {
    code,
    status: ERROR_STATUS[code],
    message: `${what}: ${reason}${reason.endsWith('.') ? '' : '.'}${hint}`,
    ...(channelCode !== undefined ? { channelCode } : {}),
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
  };
}

/** Whether a failure may pass if the same request is sent again later. */
export const isTransient = (failure: Pick<UpstreamFailure, 'status'>) => failure.status === 429 || failure.status >= 500;
