import type { HttpHandler } from '@azure/functions';
import { type HttpRequest } from '@azure/functions';
import * as z from 'zod';
import { ServiceError } from '../../shared/errors/service-error.js';
import { findGeography, type Geography } from '../../shared/geography/geographies.js';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { json, noContent } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { normalizeNumber, poolImportSchema, poolNumberView } from '../../shared/phone-numbers/pool-number.js';
import { services } from '../../shared/services.js';

/**
 * The number pools (management API): the operator imports the numbers it owns from its carriers
 * into the pool of a geography, lists a pool and takes free numbers out of it. Resources of that
 * geography search and purchase from it (functions/phone-number-search.ts).
 */
function geographyParam(request: HttpRequest): Geography {
  const geography = findGeography(request.params.geography ?? '');
  const enabled = services().settings.enabledGeographies;
  if (!geography || !enabled.includes(geography.key)) {
    throw new ServiceError('NotFound', `'${request.params.geography ?? ''}' is not an enabled geography of this deployment.`, { target: 'geography' });
  }
  return geography;
}

const statusQuery = z.object({ status: z.enum(['available', 'reserved', 'assigned'], { error: 'status must be available, reserved or assigned' }).optional() });

export const managementNumberPool: HttpHandler = managementRoute({
  GET: async ({ request }) => {
    const geography = geographyParam(request);
    const { status } = parseWith(statusQuery, { status: request.query.get('status') ?? undefined }, 'query');
    const numbers = await services().phoneNumbers.pool.list(geography, status);
    return json(200, { geography: geography.name, value: numbers.map(poolNumberView) });
  },
  POST: async (scope) => {
    const geography = geographyParam(scope.request);
    const input = parseWith(poolImportSchema, await managementJsonBody(scope));
    const outcome = await services().phoneNumbers.pool.import(geography, input.numbers);
    return json(200, { geography: geography.name, ...outcome });
  },
});

export const managementNumberPoolNumber: HttpHandler = managementRoute({
  DELETE: async ({ request }) => {
    const geography = geographyParam(request);
    const phoneNumber = normalizeNumber(request.params.phoneNumber ?? '');
    if (!phoneNumber) throw new ServiceError('ValidationError', `'${request.params.phoneNumber ?? ''}' is not an E.164 phone number.`, { target: 'phoneNumber' });
    await services().phoneNumbers.pool.remove(geography, phoneNumber);
    return noContent();
  },
});
