import { app } from '@azure/functions';
import { ALL_METHODS } from '../shared/http/methods.js';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/recordings.ts). */
const handlers = () => import('./handlers/recordings.js');

/**
 * Call recordings (our own API, HMAC with the resource key like every ACS resource-key API):
 * upload, list, get, metadata, content (streamed, with Range) and delete. See README, Recordings.
 */
app.http('recordings', {
  route: 'recordings',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'recordings'),
});

app.http('recording', {
  route: 'recordings/{recordingId}',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'recording'),
});

app.http('recordingMetadata', {
  route: 'recordings/{recordingId}/metadata',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'recordingMetadata'),
});

app.http('recordingContent', {
  route: 'recordings/{recordingId}/content',
  methods: [...ALL_METHODS],
  handler: lazyHandler(handlers, 'recordingContent'),
});
