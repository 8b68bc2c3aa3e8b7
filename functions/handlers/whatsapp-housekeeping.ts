import type { TimerHandler } from '@azure/functions';
import { services } from '../../shared/services.js';

export const whatsAppHousekeeping: TimerHandler = async (_timer, context) => {
  const svc = services();
  const removed = await svc.whatsApp.housekeeping(1000);
  if (removed > 0) svc.logger.info('whatsapp.housekeeping', { correlationId: context.invocationId, count: removed });
};
