import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { ManualClock } from '../shared/clock.js';
import { geographyByKey } from '../shared/geography/geographies.js';
import { services } from '../shared/services.js';
import { createResource, startBenchStack, TIMERS_OFF, writeAll } from './bench-stack.js';

const DAY = 86_400_000;
const MESSAGES_PER_THREAD = 10;

/**
 * Chat retention purge throughput: threads idle for 40 days (2 participants and 10 messages each)
 * are purged by one run of the retention job, (a) when all 1 000 threads of a resource expire and
 * (b) when 1 000 of 50 000 expire (49 000 were active yesterday). The threads are written straight
 * into the embedded Cosmos store with the real client (the SDK would take minutes for 50 000). Store
 * requests are counted at the embedded Cosmos server.
 */
export async function retentionBench(): Promise<string[]> {
  const clock = new ManualClock(new Date());
  const stack = await startBenchStack(TIMERS_OFF, { clock });
  const lines: string[] = [];
  try {
    const svc = services();
    const geo = svc.stores.forGeography(geographyByKey('europe'));
    const threads = await geo.container('chatThreads');
    const memberships = await geo.container('chatMemberships');
    const scale = Number(process.env.BENCH_RETENTION_SCALE ?? 1);
    for (const [label, expiring, fresh] of [
      ['1 000 of 1 000 threads expire', 1000 * scale, 0],
      ['1 000 of 50 000 threads expire', 1000 * scale, 49_000 * scale],
    ] as const) {
      const name = `bench-retention-${fresh}`;
      await createResource(stack, name, 'Europe');
      const resource = await svc.resources.get(name);
      const seedStart = performance.now();
      const seededItems = await seed(threads, memberships, resource.id, clock.now(), expiring, fresh);
      if (process.env.BENCH_VERBOSE) console.log(`seeded ${seededItems} in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);
      // The plan alone (what the preview answers): the two expiry queries and the hold lookup.
      const planStarted = performance.now();
      const planned = await svc.retention.threads.plan(geo, resource, expiring + fresh);
      const planSeconds = (performance.now() - planStarted) / 1000;
      if (planned.due.length !== expiring) throw new Error(`${label}: planned ${planned.due.length} of ${expiring}`);

      const before = stack.cosmosRequests!();
      const started = performance.now();
      const totals = await svc.retention.threads.run(geo, resource, { maxItems: expiring + fresh, deadline: Date.now() + 30 * 60_000 });
      const seconds = (performance.now() - started) / 1000;
      const requests = stack.cosmosRequests!() - before;
      const purged = totals.deleted.chatThreads ?? 0;
      const items = totals.deleted.chatItems ?? 0;
      if (purged !== expiring || totals.errors > 0) throw new Error(`${label}: purged ${purged} of ${expiring}, ${totals.errors} errors`);
      const deleting = seconds - planSeconds;
      lines.push(
        `${label} (${seededItems.toLocaleString('en')} items stored): run ${seconds.toFixed(1)} s, of which planning ${planSeconds.toFixed(1)} s; ` +
          `deleting ${(purged / deleting).toFixed(0)} threads/s, ${((purged * MESSAGES_PER_THREAD) / deleting).toFixed(0)} messages/s, ` +
          `${(items / deleting).toFixed(0)} items/s; ${(requests / purged).toFixed(1)} store requests per purged thread`,
      );
    }
  } finally {
    await stack.stop();
  }
  return lines;
}

/** Writes `expiring` threads idle for 40 days (with participants, memberships and messages) and `fresh` threads active yesterday. */
async function seed(threads: Container, memberships: Container, resourceId: string, now: Date, expiring: number, fresh: number): Promise<number> {
  const items: { container: Container; item: Record<string, unknown> }[] = [];
  const idleSince = new Date(now.getTime() - 40 * DAY).toISOString();
  const yesterday = new Date(now.getTime() - DAY).toISOString();
  for (let t = 0; t < expiring + fresh; t += 1) {
    const threadId = `19:${randomUUID().replace(/-/g, '')}@thread.v2`;
    const at = t < expiring ? idleSince : yesterday;
    const base = { threadId, resourceId };
    items.push({ container: threads, item: { ...base, id: threadId, kind: 'thread', topic: 'bench', createdOn: at, createdBy: 'x', sequence: 2, lastActivityAt: at } });
    if (t >= expiring) continue;
    for (let p = 0; p < 2; p += 1) {
      const identityId = `8:acs:${resourceId}_${randomUUID()}`;
      items.push({ container: threads, item: { ...base, id: `p|${identityId}`, kind: 'participant', identityId, addedOn: at } });
      items.push({ container: memberships, item: { id: threadId, identityId, resourceId, threadId, sortKey: at } });
    }
    for (let m = 1; m <= MESSAGES_PER_THREAD; m += 1) {
      items.push({ container: threads, item: { ...base, id: `m|${m}`, kind: 'message', sequence: m, type: 'text', content: { message: 'benchmark message text' }, createdOn: at } });
    }
  }
  return writeAll(items);
}
