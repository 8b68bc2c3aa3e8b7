import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/management-channels.ts). */
const handlers = () => import('./handlers/management-channels.js');

app.http('managementChannels', {
  route: 'api/management/resources/{name}/channels',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementChannels'),
});

app.http('managementChannel', {
  route: 'api/management/resources/{name}/channels/{channelId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'managementChannel'),
});
