import { randomBytes } from 'node:crypto';
import { geographyByKey } from '../geography/geographies.js';
import type { PrivacyItem } from '../queues/work-items.js';
import { WORK_QUEUES } from '../queues/work-queues.js';
import type { Services } from '../services.js';
import type { RunOutcome } from './request-runner.js';

type PrivacyWorkServices = Pick<Services, 'stores' | 'registry' | 'privacy' | 'settings' | 'logger' | 'workQueues' | 'clock'>;

/** Requests of one geography planned per timer run (the rest wait for the next). */
const PLAN_PER_GEOGRAPHY = 100;

const newTicket = () => randomBytes(16).toString('hex');

/**
 * The planner (the `privacyWorker` timer): every geography's requests that are waiting, or whose
 * lease ran out (a worker died, or a slice failed and released it), each claimed with a fresh ticket
 * (the lease, written with optimistic concurrency) and enqueued as one work item. A request already
 * claimed or in a worker's hands is left alone. A failing geography is logged; the others still run.
 */
export async function planPrivacyRequests(svc: PrivacyWorkServices): Promise<number> {
  let planned = 0;
  for (const geo of svc.stores.all()) {
    try {
      const items: PrivacyItem[] = [];
      for (const request of await svc.privacy.runner.due(geo, PLAN_PER_GEOGRAPHY, svc.clock.now())) {
        const ticket = newTicket();
        if (await svc.privacy.claim(geo, request, ticket)) {
          items.push({ v: 1, kind: 'privacyRequest', geography: geo.geography.key, resourceId: request.resourceId, requestId: request.id, ticket });
        }
      }
      planned += await svc.workQueues.sendAll(WORK_QUEUES.privacyRequests, items);
      if (items.length > 0) svc.logger.info('privacy.planned', { geography: geo.geography.key, count: items.length });
    } catch (error) {
      svc.logger.error('privacy.planning_failed', { geography: geo.geography.key, detail: error instanceof Error ? error.message : String(error) });
    }
  }
  return planned;
}

/**
 * One work item: a slice of one request (PRIVACY_STEPS_PER_ITEM steps, within
 * PRIVACY_WORKER_MAX_SECONDS), on whichever instance the queue gives it to. When more is left, the
 * lease passes to a new ticket and the next slice is enqueued, so the steps of one request run on
 * every instance. A second delivery of a slice finds the lease passed on and does nothing; a request
 * that must wait (events not yet published) or failed is left for the planner's next run.
 */
export async function workPrivacyItem(svc: PrivacyWorkServices, item: PrivacyItem): Promise<RunOutcome | 'gone'> {
  const resource = await svc.registry.getById(item.resourceId);
  const geo = resource ? svc.stores.forResource(resource) : svc.stores.forGeography(geographyByKey(item.geography));
  const nextTicket = newTicket();
  const outcome = await svc.privacy.runSlice(geo, item.requestId, item.resourceId, {
    ticket: item.ticket,
    nextTicket,
    maxSteps: svc.settings.privacyStepsPerItem,
    deadline: Date.now() + svc.settings.privacyWorkerMaxSeconds * 1000,
  });
  if (outcome === 'handedOff') await svc.workQueues.send(WORK_QUEUES.privacyRequests, { ...item, ticket: nextTicket });
  return outcome;
}

/** A slice that failed on every attempt: logged; its lease runs out and the planner enqueues the request again. */
export function recordPoisonedPrivacyItem(svc: Pick<Services, 'logger'>, item: PrivacyItem): void {
  svc.logger.error('privacy.work_item_poisoned', { resourceId: item.resourceId, geography: item.geography, detail: `request ${item.requestId}: the work item failed on every attempt; the planner takes the request up again once its lease runs out` });
}
