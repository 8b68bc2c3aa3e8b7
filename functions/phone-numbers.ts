import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/phone-numbers.ts). */
const handlers = () => import('./handlers/phone-numbers.js');

app.http('phoneNumbers', {
  route: 'phoneNumbers',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumbers'),
});

app.http('phoneNumber', {
  route: 'phoneNumbers/{phoneNumber}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumber'),
});

app.http('phoneNumberCapabilities', {
  route: 'phoneNumbers/{phoneNumber}/capabilities',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumberCapabilities'),
});

app.http('phoneNumberOperation', {
  route: 'phoneNumbers/operations/{operationId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'phoneNumberOperation'),
});

app.http('operatorInformationSearch', {
  route: 'operatorInformation/:search',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'operatorInformationSearch'),
});
