import { app } from '@azure/functions';
import { managementJsonBody, managementRoute } from '../shared/http/management-route.js';
import { json } from '../shared/http/responses.js';
import { ALL_METHODS } from '../shared/http/route-handler.js';
import { parseWith } from '../shared/http/validation.js';
import { parseResourceName } from '../shared/resources/resource.js';
import { placeHoldBodySchema, releaseHoldBodySchema } from '../shared/retention/legal-holds.js';
import { retentionPreview } from '../shared/retention/retention-preview.js';
import { missedRuns } from '../shared/retention/missed-runs.js';
import { PURGE_KINDS } from '../shared/retention/purge-schedules.js';
import { services } from '../shared/services.js';

/** Management API for retention: legal holds, the preview of the next purge, and the purge runs. */

const resourceOf = (name: string | undefined) => services().resources.get(parseResourceName(name));

app.http('managementLegalHolds', {
  route: 'api/management/resources/{name}/legalHolds',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => json(200, { value: await services().retention.holds.list(await resourceOf(request.params.name)) }),
    POST: async (scope) => {
      const input = parseWith(placeHoldBodySchema, await managementJsonBody(scope));
      return json(201, await services().retention.holds.place(await resourceOf(scope.request.params.name), input));
    },
  }),
});

app.http('managementLegalHoldRelease', {
  route: 'api/management/resources/{name}/legalHolds/{holdId}/release',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    POST: async (scope) => {
      const input = parseWith(releaseHoldBodySchema, await managementJsonBody(scope));
      return json(200, await services().retention.holds.release(await resourceOf(scope.request.params.name), scope.request.params.holdId ?? '', input.reason));
    },
  }),
});

app.http('managementRetentionPreview', {
  route: 'api/management/resources/{name}/retention/preview',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async ({ request }) => json(200, await retentionPreview(services(), await resourceOf(request.params.name))),
  }),
});

app.http('managementPurgeRuns', {
  route: 'api/management/purgeRuns',
  methods: [...ALL_METHODS],
  handler: managementRoute({
    GET: async () => {
      const { retention, clock } = services();
      const { runs } = retention;
      const lists = await Promise.all(PURGE_KINDS.map(async (kind) => [kind, await runs.recent(kind, 20)] as const));
      const now = clock.now();
      const missed = Object.fromEntries(await Promise.all(lists.map(async ([kind, list]) => [kind, await missedRuns(kind, list, now)] as const)));
      return json(200, { status: await runs.status(), runs: Object.fromEntries(lists), missed });
    },
  }),
});
