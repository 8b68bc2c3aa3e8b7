import type { HttpHandler } from '@azure/functions';
import { parseDomainName, parseUsername, putDomainBodySchema, putSenderBodySchema } from '../../shared/email/email-domain-records.js';
import { managementJsonBody, managementRoute } from '../../shared/http/management-route.js';
import { json, noContent } from '../../shared/http/responses.js';
import { parseWith } from '../../shared/http/validation.js';
import { parseResourceName } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';

/**
 * Management API for a resource's e-mail domains and their sender usernames (MailFrom addresses),
 * the equivalent of ACS's email domain resources linked to the communication resource. Stored in the
 * resource's geography until deleted. See README, E-mail.
 */
const resourceOf = (name: string | undefined) => services().resources.get(parseResourceName(name));

export const managementEmailDomains: HttpHandler = managementRoute({
  GET: async ({ request }) => json(200, { value: await services().email.domains.listDomains(await resourceOf(request.params.name)) }),
});

export const managementEmailDomain: HttpHandler = managementRoute({
  GET: async ({ request }) => json(200, await services().email.domains.getDomain(await resourceOf(request.params.name), parseDomainName(request.params.domain))),
  PUT: async (scope) => {
    const domain = parseDomainName(scope.request.params.domain);
    const body = parseWith(putDomainBodySchema, await managementJsonBody(scope));
    const { created, view } = await services().email.domains.putDomain(await resourceOf(scope.request.params.name), domain, body);
    return json(created ? 201 : 200, view);
  },
  DELETE: async ({ request }) => {
    await services().email.domains.deleteDomain(await resourceOf(request.params.name), parseDomainName(request.params.domain));
    return noContent();
  },
});

export const managementEmailSenders: HttpHandler = managementRoute({
  GET: async ({ request }) => json(200, { value: await services().email.domains.listSenders(await resourceOf(request.params.name), parseDomainName(request.params.domain)) }),
});

export const managementEmailSender: HttpHandler = managementRoute({
  GET: async ({ request }) =>
    json(200, await services().email.domains.getSender(await resourceOf(request.params.name), parseDomainName(request.params.domain), parseUsername(request.params.username))),
  PUT: async (scope) => {
    const { params } = scope.request;
    const body = parseWith(putSenderBodySchema, await managementJsonBody(scope));
    const { created, view } = await services().email.domains.putSender(await resourceOf(params.name), parseDomainName(params.domain), parseUsername(params.username), body);
    return json(created ? 201 : 200, view);
  },
  DELETE: async ({ request }) => {
    await services().email.domains.deleteSender(await resourceOf(request.params.name), parseDomainName(request.params.domain), parseUsername(request.params.username));
    return noContent();
  },
});
