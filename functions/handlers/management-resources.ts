import type { HttpHandler } from '@azure/functions';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { publicBaseUrl } from '../../shared/http/public-base-url.js';
import { json } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { parseResourceName, putResourceBodySchema, regenerateKeyBodySchema, resourceView } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';

export const managementResourceList: HttpHandler = managementRoute({
  GET: async ({ request }) => {
    const base = publicBaseUrl(request.url);
    const resources = await services().resources.list();
    return json(200, { value: resources.map((r) => resourceView(r, base, false)) });
  },
});

export const managementResource: HttpHandler = managementRoute({
  GET: async ({ request }) => {
    const resource = await services().resources.get(parseResourceName(request.params.name));
    return json(200, resourceView(resource, publicBaseUrl(request.url), true));
  },
  PUT: async (scope) => {
    const name = parseResourceName(scope.request.params.name);
    const body = parseWith(putResourceBodySchema, await managementJsonBody(scope));
    const { created, resource } = await services().resources.put(name, body);
    return json(created ? 201 : 200, resourceView(resource, publicBaseUrl(scope.request.url), true));
  },
  DELETE: async ({ request }) => {
    const report = await services().resources.delete(parseResourceName(request.params.name));
    return json(200, report);
  },
});

export const managementResourceRegenerateKey: HttpHandler = managementRoute({
  POST: async (scope) => {
    const name = parseResourceName(scope.request.params.name);
    const body = parseWith(regenerateKeyBodySchema, await managementJsonBody(scope));
    const resource = await services().resources.regenerateKey(name, body.key);
    return json(200, resourceView(resource, publicBaseUrl(scope.request.url), true));
  },
});
