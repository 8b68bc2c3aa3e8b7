import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

const base = 'api/management/resources/{name}/emailDomains';

/** The handlers, loaded on the first invocation (functions/handlers/management-email-domains.ts). */
const handlers = () => import('./handlers/management-email-domains.js');

app.http('managementEmailDomains', {
  route: base,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementEmailDomains'),
});

app.http('managementEmailDomain', {
  route: `${base}/{domain}`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementEmailDomain'),
});

app.http('managementEmailSenders', {
  route: `${base}/{domain}/senderUsernames`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementEmailSenders'),
});

app.http('managementEmailSender', {
  route: `${base}/{domain}/senderUsernames/{username}`,
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementEmailSender'),
});
