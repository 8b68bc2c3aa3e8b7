import { app } from '@azure/functions';
import { lazyHandler } from '../shared/lazy-handler.js';
import { scheduleReference } from '../shared/timer-schedules.js';

/** The handlers, loaded on the first invocation (functions/handlers/sms-housekeeping.ts). */
const handlers = () => import('./handlers/sms-housekeeping.js');

/**
 * Every 5 minutes (SMS_HOUSEKEEPING_SCHEDULE, six-field NCRONTAB): removes expired SMS delivery
 * records, repeatability claims, phone number searches and operation statuses in every geography
 * (shared/sms/sms-housekeeping.ts), and binds any carrier link that is not bound.
 */
app.timer('smsHousekeeping', {
  schedule: scheduleReference('smsHousekeeping'),
  handler: lazyHandler(handlers, 'smsHousekeeping'),
});
