import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-phone-numbers.ts). */
const handlers = () => import('./handlers/management-phone-numbers.js');

app.http('managementNumberPool', {
  route: 'api/management/numberPools/{geography}/numbers',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementNumberPool'),
});

app.http('managementNumberPoolNumber', {
  route: 'api/management/numberPools/{geography}/numbers/{phoneNumber}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementNumberPoolNumber'),
});
