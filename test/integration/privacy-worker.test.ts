import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { geographyByKey } from '../../shared/geography/geographies.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import { planPrivacyRequests, recordPoisonedPrivacyItem } from '../../shared/privacy/privacy-worker.js';
import type { Resource } from '../../shared/resources/resource.js';
import { services } from '../../shared/services.js';
import type { GeoStore } from '../../shared/stores/geo-store.js';
import { capturedLogger } from '../support/captured-logger.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The privacy planner (the `privacyWorker` timer) on the stack's stores and queues, with its
 * collaborators passed in: what it enqueues, counts and logs per geography, when a request was
 * claimed by another planner between its query and its claim, and when a geography fails. Its timer is
 * off; the work items it enqueues are worked off by the stack's queue function.
 */
const NEVER = '0 0 0 1 1 *';
let stack: TestStack;
let resource: Resource;
const europe = () => services().stores.forGeography(geographyByKey('europe'));

beforeAll(async () => {
  stack = await startTestStack({ env: { PRIVACY_WORKER_SCHEDULE: NEVER, RETENTION_PURGE_SCHEDULE: NEVER, RECORDING_PURGE_SCHEDULE: NEVER } });
  await stack.createResource('privacy-worker', 'Europe');
  resource = await services().resources.get('privacy-worker');
});
afterAll(async () => stack?.stop());

async function submitted(count: number): Promise<PrivacyRequestRecord[]> {
  const requests: PrivacyRequestRecord[] = [];
  for (let i = 0; i < count; i += 1) {
    requests.push((await services().privacy.submit(resource, { action: 'inventory', subjects: { identityIds: [], phoneNumbers: [], emails: [`person${i}@contoso.example`] } })).request);
  }
  return requests;
}

/**
 * The planner's services, over the geographies given, each answering `due` with the requests given
 * for it (as read before any planner claimed them), or failing; claims go to the real service.
 */
function plannerOver(geographies: { geo: GeoStore; due: PrivacyRequestRecord[] | Error }[]) {
  const { logger, lines } = capturedLogger();
  const due = async (geo: GeoStore) => {
    const answer = geographies.find((g) => g.geo === geo)!.due;
    if (answer instanceof Error) throw answer;
    return answer;
  };
  const svc = {
    ...services(),
    logger,
    stores: { ...services().stores, all: () => geographies.map((g) => g.geo) },
    privacy: { runner: { due }, claim: (geo: GeoStore, request: PrivacyRequestRecord, ticket: string) => services().privacy.claim(geo, request, ticket) },
  } as unknown as Parameters<typeof planPrivacyRequests>[0];
  return { svc, lines };
}

describe('the privacy planner', () => {
  it('enqueues each request it claims, returns how many, and logs the count of each geography that planned any', async () => {
    const requests = await submitted(3);
    const japan = services().stores.forGeography(geographyByKey('japan'));
    const { svc, lines } = plannerOver([
      { geo: europe(), due: requests },
      { geo: japan, due: [] },
    ]);
    expect(await planPrivacyRequests(svc)).toBe(3);
    expect(lines).toEqual([{ level: 'info', event: 'privacy.planned', geography: 'europe', count: 3 }]);
    await stack.idle();
  });

  it('leaves a request another planner claimed between its query and its claim', async () => {
    const [taken, free] = await submitted(2);
    // As read by this planner, before another one claims the first.
    const stale = [taken!, free!];
    expect(await services().privacy.claim(europe(), taken!, 'another-planner')).toBe(true);
    const { svc, lines } = plannerOver([{ geo: europe(), due: stale }]);
    expect(await planPrivacyRequests(svc)).toBe(1);
    expect(lines).toEqual([{ level: 'info', event: 'privacy.planned', geography: 'europe', count: 1 }]);
    await stack.idle();
  });

  it('logs a geography that fails, with what failed, and still plans the others', async () => {
    const requests = await submitted(1);
    const japan = services().stores.forGeography(geographyByKey('japan'));
    const { svc, lines } = plannerOver([
      { geo: japan, due: new Error('Japan\'s store is unavailable') },
      { geo: europe(), due: requests },
    ]);
    expect(await planPrivacyRequests(svc)).toBe(1);
    expect(lines).toEqual([
      { level: 'error', event: 'privacy.planning_failed', geography: 'japan', detail: 'Japan\'s store is unavailable' },
      { level: 'info', event: 'privacy.planned', geography: 'europe', count: 1 },
    ]);
    await stack.idle();
  });

  it('logs a work item that failed on every attempt, with its request and no subject', () => {
    const { logger, lines } = capturedLogger();
    recordPoisonedPrivacyItem({ logger }, { v: 1, kind: 'privacyRequest', geography: 'europe', resourceId: resource.id, requestId: 'req-7', ticket: 't' });
    expect(lines).toEqual([
      {
        level: 'error',
        event: 'privacy.work_item_poisoned',
        resourceId: resource.id,
        geography: 'europe',
        detail: 'request req-7: the work item failed on every attempt; the planner takes the request up again once its lease runs out',
      },
    ]);
  });
});
