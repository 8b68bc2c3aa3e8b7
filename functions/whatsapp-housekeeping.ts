import { app } from '@azure/functions';
import { services } from '../shared/services.js';

/**
 * Every 10 minutes (WHATSAPP_HOUSEKEEPING_SCHEDULE, six-field NCRONTAB): removes expired webhook
 * dedupe marks and send repeatability claims in the WhatsApp geographies (shared/whatsapp/message-records.ts).
 */
app.timer('whatsAppHousekeeping', {
  schedule: process.env.WHATSAPP_HOUSEKEEPING_SCHEDULE || '0 */10 * * * *',
  handler: async (_timer, context) => {
    const svc = services();
    const removed = await svc.whatsApp.housekeeping(1000);
    if (removed > 0) svc.logger.info('whatsapp.housekeeping', { correlationId: context.invocationId, count: removed });
  },
});
