import { app } from '@azure/functions';
import { blobCreatedEventSchema } from '../shared/recordings/blob-created-event.js';
import { services } from '../shared/services.js';

/**
 * `Microsoft.Storage.BlobCreated` from each geography's storage account, filtered by the Event Grid
 * subscription to the geography's `recording-landing` container: registers the file as a recording.
 * Idempotent, so Event Grid's at-least-once delivery does no harm. An event that is not a BlobCreated
 * event of a landing container is logged and acknowledged; a failure is thrown so Event Grid retries.
 */
app.eventGrid('recordingLanding', {
  handler: async (event, context) => {
    const svc = services();
    const parsed = blobCreatedEventSchema.safeParse(event);
    if (!parsed.success) {
      svc.logger.warn('recording.landing_event_invalid', { correlationId: context.invocationId, detail: parsed.error.issues[0]?.message });
      return;
    }
    await svc.recordings.landing.handle(parsed.data);
  },
});
