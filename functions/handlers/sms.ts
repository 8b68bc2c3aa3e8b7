import type { HttpHandler } from '@azure/functions';
import { parseJsonBody } from '../../shared/http/request-body.js';
import { hmacResourceRoute } from '../../shared/http/resource-request.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { phoneRawId } from '../../shared/oplog/subject-ids.js';
import { sendBodySchema } from '../../shared/sms/sms-send.js';
import { services } from '../../shared/services.js';

export const sms: HttpHandler = hmacResourceRoute(
  {
    POST: async ({ request, resource, body, operation }) => {
      const input = parseWith(sendBodySchema, parseJsonBody(request, body) ?? {});
      operation.subjects.add(phoneRawId(input.from));
      for (const recipient of input.smsRecipients) if (/^\+\d{7,15}$/.test(recipient.to)) operation.subjects.add(phoneRawId(recipient.to));
      return json(202, { value: await services().sms.send(resource, input) });
    },
  },
  { requireApiVersion: true },
);
