import type { HttpHandler } from '@azure/functions';
import { ServiceError } from '../../shared/errors/service-error.js';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { publicBaseUrl } from '../../shared/http/public-base-url.js';
import { json, noContent } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { parseResourceName } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import { channelView, putChannelBodySchema } from '../../shared/whatsapp/channel.js';

/**
 * Advanced Messaging channels of a resource (management API): register (PUT, 201 or 200), list,
 * get and remove WhatsApp channels. A channel names the app settings holding its access token and
 * app secret; its view shows the webhook URL to give WhatsApp. Refused (400, naming the five
 * geographies) for a resource outside the geographies that offer WhatsApp.
 */
const resourceOf = async (name: string | undefined) => {
  const resource = await services().resources.get(parseResourceName(name));
  if (resource.state !== 'active') throw new ServiceError('NotFound', `Resource '${resource.name}' was not found.`, { target: 'name' });
  return resource;
};

export const managementChannels: HttpHandler = managementRoute({
  GET: async ({ request }) => {
    const resource = await resourceOf(request.params.name);
    const channels = await services().whatsApp.channels.list(resource);
    return json(200, { value: channels.map((c) => channelView(c, publicBaseUrl(request.url), resource.name)) });
  },
});

export const managementChannel: HttpHandler = managementRoute({
  PUT: async (scope) => {
    const resource = await resourceOf(scope.request.params.name);
    const input = parseWith(putChannelBodySchema, await managementJsonBody(scope));
    const { channel, created } = await services().whatsApp.channels.put(resource, scope.request.params.channelId ?? '', input);
    return json(created ? 201 : 200, channelView(channel, publicBaseUrl(scope.request.url), resource.name));
  },
  GET: async ({ request }) => {
    const resource = await resourceOf(request.params.name);
    const channel = await services().whatsApp.channels.require(resource, request.params.channelId ?? '', 'channelId');
    return json(200, channelView(channel, publicBaseUrl(request.url), resource.name));
  },
  DELETE: async ({ request }) => {
    const resource = await resourceOf(request.params.name);
    if (!(await services().whatsApp.channels.delete(resource, request.params.channelId ?? ''))) {
      throw new ServiceError('NotFound', `Channel registration '${request.params.channelId ?? ''}' was not found for this resource.`, { target: 'channelId' });
    }
    return noContent();
  },
});
