import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RegisteredFunction } from './functions-core-shim.js';
import { triggerBinding, type FunctionInvoker } from './function-invoker.js';
import { readRequestBody } from './read-request.js';
import { sendJson } from './loopback-listener.js';

/**
 * `/runtime/webhooks/eventgrid?functionName=X`, with the Functions host's behaviour:
 * - `aeg-event-type: SubscriptionValidation` answers the handshake with `{validationResponse}`;
 * - `aeg-event-type: Notification` (Event Grid schema array, or CloudEvents single / batch) invokes
 *   the function once per event and answers 202, or 500 if any invocation failed, so Event Grid
 *   redelivers (handlers must be idempotent);
 * - `OPTIONS` answers the CloudEvents abuse-protection handshake (WebHook-Allowed-Origin);
 * - an unknown function is a 404.
 */
export async function serveEventGridWebhook(
  invoker: FunctionInvoker,
  findFunction: (name: string) => RegisteredFunction | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<number> {
  const name = url.searchParams.get('functionName') ?? '';
  const fn = findFunction(name);
  if (!fn || triggerBinding(fn)[1].type?.toLowerCase() !== 'eventgridtrigger') {
    return sendJson(res, 404, { error: `No Event Grid function named '${name}'` });
  }
  if (req.method === 'OPTIONS') {
    const origin = header(req, 'webhook-request-origin');
    if (!origin) return sendJson(res, 400, { error: 'WebHook-Request-Origin header is missing' });
    res.setHeader('WebHook-Allowed-Origin', origin);
    res.setHeader('WebHook-Allowed-Rate', '*');
    res.setHeader('Allow', 'POST');
    return sendJson(res, 200);
  }
  if (req.method !== 'POST') return sendJson(res, 405);

  let events: Record<string, unknown>[];
  try {
    const parsed = JSON.parse((await readRequestBody(req)).toString('utf8')) as unknown;
    events = (Array.isArray(parsed) ? parsed : [parsed]) as Record<string, unknown>[];
  } catch {
    return sendJson(res, 400, { error: 'The body is not valid JSON' });
  }

  const eventType = (header(req, 'aeg-event-type') ?? 'Notification').toLowerCase();
  if (eventType === 'subscriptionvalidation') {
    const data = events[0]?.data as { validationCode?: string } | undefined;
    if (!data?.validationCode) return sendJson(res, 400, { error: 'No validationCode in the validation event' });
    return sendJson(res, 200, { validationResponse: data.validationCode });
  }
  if (eventType === 'subscriptiondeletion') return sendJson(res, 202);
  if (eventType !== 'notification') return sendJson(res, 400, { error: `Unknown aeg-event-type '${eventType}'` });

  const [bindingName] = triggerBinding(fn);
  let failed = 0;
  for (const event of events) {
    try {
      await invoker.invoke(fn, {
        inputData: [{ name: bindingName, data: { json: JSON.stringify(event) } }],
        triggerMetadata: {},
      });
    } catch {
      failed += 1;
    }
  }
  return sendJson(res, failed > 0 ? 500 : 202);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

