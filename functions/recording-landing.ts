import { app } from '@azure/functions';
import { lazyHandler } from '../shared/lazy-handler.js';

/** The handlers, loaded on the first invocation (functions/handlers/recording-landing.ts). */
const handlers = () => import('./handlers/recording-landing.js');

/**
 * `Microsoft.Storage.BlobCreated` from each geography's storage account, filtered by the Event Grid
 * subscription to the geography's `recording-landing` container: registers the file as a recording.
 * Idempotent, so Event Grid's at-least-once delivery does no harm. An event that is not a BlobCreated
 * event of a landing container is logged and acknowledged; a failure is thrown so Event Grid retries.
 */
app.eventGrid('recordingLanding', {
  handler: lazyHandler(handlers, 'recordingLanding'),
});
