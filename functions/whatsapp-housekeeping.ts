import { app } from '@azure/functions';
import { lazyHandler } from '../shared/lazy-handler.js';
import { scheduleReference } from '../shared/timer-schedules.js';

/** The handlers, loaded on the first invocation (functions/handlers/whatsapp-housekeeping.ts). */
const handlers = () => import('./handlers/whatsapp-housekeeping.js');

/**
 * Every 10 minutes (WHATSAPP_HOUSEKEEPING_SCHEDULE, six-field NCRONTAB): removes expired webhook
 * dedupe marks and send repeatability claims in the WhatsApp geographies (shared/whatsapp/message-records.ts).
 */
app.timer('whatsAppHousekeeping', {
  schedule: scheduleReference('whatsAppHousekeeping'),
  handler: lazyHandler(handlers, 'whatsAppHousekeeping'),
});
