import type { TimerHandler } from '@azure/functions';
import { services } from '../../shared/services.js';

export const smsHousekeeping: TimerHandler = async (_timer, context) => {
  const svc = services();
  svc.sms.connectLinks();
  const removed = await svc.sms.housekeeping(1000);
  if (removed > 0) svc.logger.info('sms.housekeeping', { correlationId: context.invocationId, count: removed });
};
