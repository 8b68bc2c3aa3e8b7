import { app } from '@azure/functions';
import { services } from '../shared/services.js';
import { outboxRepublishSchedule, republishOutboxes } from '../shared/events/outbox-republisher.js';

/** Every 30 seconds (OUTBOX_REPUBLISH_SCHEDULE): finishes and publishes whatever the outboxes of all geographies still hold. */
app.timer('outboxRepublish', {
  schedule: outboxRepublishSchedule(),
  handler: async (_timer, context) => {
    const svc = services();
    const summary = await republishOutboxes(svc);
    if (summary.examined + summary.pruned > 0) svc.logger.info('outbox.republish', { correlationId: context.invocationId, count: summary.published });
  },
});
