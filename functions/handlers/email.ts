import type { HttpHandler } from '@azure/functions';
import { emailMessageSchema, EMAIL_MAX_REQUEST_BYTES } from '../../shared/email/email-message.js';
import { noteEmailSubjects, operationLocation, withErrorCodeHeader } from '../../shared/email/email-http.js';
import { isTerminal, operationView } from '../../shared/email/email-operation.js';
import { emailDeliveryQueue } from '../../shared/email/email-delivery-output.js';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { services } from '../../shared/services.js';

/**
 * ACS Email 2025-09-01, for @azure/communication-email 1.1 (resource key, HMAC): `beginSend` and the
 * operation it polls. A send is accepted (202) once its content and operation are stored in the
 * resource's geography; its delivery work item goes to the `work-email-delivery` queue through the
 * output binding, and `emailDelivery` (functions/email-delivery.ts) delivers it. See README, E-mail.
 */
const retryAfter = () => String(services().settings.email.statusRetryAfterSeconds);

export const emailSend: HttpHandler = hmacResourceRoute(
  {
    POST: withErrorCodeHeader(async (scope) => {
      const email = services().email;
      email.sender.throttle(scope.resource, 'send');
      const message = parseWith(emailMessageSchema, parseJsonBody(scope.request, scope.body), 'email message');
      noteEmailSubjects(scope.operation, message);
      const { record, workItem } = await email.sender.accept(scope.resource, { body: scope.body, message, operationId: scope.request.headers.get('operation-id') });
      if (workItem) scope.context.extraOutputs.set(emailDeliveryQueue, workItem);
      return json(202, operationView(record), { 'operation-location': operationLocation(scope.request, record.id), 'retry-after': retryAfter() });
    }),
  },
  { requireApiVersion: true, maxBodyBytes: EMAIL_MAX_REQUEST_BYTES },
);

export const emailOperation: HttpHandler = hmacResourceRoute(
  {
    GET: withErrorCodeHeader(async ({ request, resource }) => {
      const email = services().email;
      email.sender.throttle(resource, 'status');
      const record = await email.sender.status(resource, request.params.operationId ?? '');
      return json(200, operationView(record), isTerminal(record.status) ? {} : { 'retry-after': retryAfter() });
    }),
  },
  { requireApiVersion: true },
);
