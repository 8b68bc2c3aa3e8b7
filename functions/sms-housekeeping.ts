import { app } from '@azure/functions';
import { services } from '../shared/services.js';

/**
 * Every 5 minutes (SMS_HOUSEKEEPING_SCHEDULE, six-field NCRONTAB): removes expired SMS delivery
 * records, repeatability claims, phone number searches and operation statuses in every geography
 * (shared/sms/sms-housekeeping.ts), and binds any carrier link that is not bound.
 */
app.timer('smsHousekeeping', {
  schedule: process.env.SMS_HOUSEKEEPING_SCHEDULE || '0 */5 * * * *',
  handler: async (_timer, context) => {
    const svc = services();
    svc.sms.connectLinks();
    const removed = await svc.sms.housekeeping(1000);
    if (removed > 0) svc.logger.info('sms.housekeeping', { correlationId: context.invocationId, count: removed });
  },
});
