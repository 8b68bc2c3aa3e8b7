import type { EventGridHandler } from '@azure/functions';
import { blobCreatedEventSchema } from '../../shared/recordings/blob-created-event.js';
import { services } from '../../shared/services.js';

export const recordingLanding: EventGridHandler = async (event, context) => {
  const svc = services();
  const parsed = blobCreatedEventSchema.safeParse(event);
  if (!parsed.success) {
    svc.logger.warn('recording.landing_event_invalid', { correlationId: context.invocationId, detail: parsed.error.issues[0]?.message });
    return;
  }
  await svc.recordings.landing.handle(parsed.data);
};
