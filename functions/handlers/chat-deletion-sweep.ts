import type { TimerHandler } from '@azure/functions';
import { services } from '../../shared/services.js';

export const chatDeletionSweep: TimerHandler = async (_timer, context) => {
  const svc = services();
  for (const geo of svc.stores.all()) {
    try {
      const result = await svc.chat.purger.finishInterrupted(geo, { graceMs: 5 * 60_000, max: 50 });
      if (result.threads > 0) svc.logger.info('chat.deletions_finished', { correlationId: context.invocationId, geography: geo.geography.key, count: result.threads });
    } catch (error) {
      svc.logger.error('chat.deletion_sweep_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
};
