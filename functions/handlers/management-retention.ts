import type { HttpHandler } from '@azure/functions';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { parseResourceName } from '../../shared/resources/resource.js';
import { placeHoldBodySchema, releaseHoldBodySchema } from '../../shared/retention/legal-holds.js';
import { retentionPreview } from '../../shared/retention/retention-preview.js';
import { missedRuns } from '../../shared/retention/missed-runs.js';
import { PURGE_KINDS } from '../../shared/retention/purge-schedules.js';
import { services } from '../../shared/services.js';

/** Management API for retention: legal holds, the preview of the next purge, and the purge runs. */

const resourceOf = (name: string | undefined) => services().resources.get(parseResourceName(name));

export const managementLegalHolds: HttpHandler = managementRoute({
  GET: async ({ request }) => json(200, { value: await services().retention.holds.list(await resourceOf(request.params.name)) }),
  POST: async (scope) => {
    const input = parseWith(placeHoldBodySchema, await managementJsonBody(scope));
    return json(201, await services().retention.holds.place(await resourceOf(scope.request.params.name), input));
  },
});

export const managementLegalHoldRelease: HttpHandler = managementRoute({
  POST: async (scope) => {
    const input = parseWith(releaseHoldBodySchema, await managementJsonBody(scope));
    return json(200, await services().retention.holds.release(await resourceOf(scope.request.params.name), scope.request.params.holdId ?? '', input.reason));
  },
});

export const managementRetentionPreview: HttpHandler = managementRoute({
  GET: async ({ request }) => json(200, await retentionPreview(services(), await resourceOf(request.params.name))),
});

export const managementPurgeRuns: HttpHandler = managementRoute({
  GET: async () => {
    const { retention, clock } = services();
    const { runs } = retention;
    const lists = await Promise.all(PURGE_KINDS.map(async (kind) => [kind, await runs.recent(kind, 20)] as const));
    const now = clock.now();
    const missed = Object.fromEntries(await Promise.all(lists.map(async ([kind, list]) => [kind, await missedRuns(kind, list, now)] as const)));
    return json(200, { status: await runs.status(), runs: Object.fromEntries(lists), missed });
  },
});
