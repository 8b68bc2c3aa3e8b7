import { geographyByKey } from '../shared/geography/geographies.js';
import type { PurgeRunRecord } from '../shared/retention/purge-run-record.js';
import { services } from '../shared/services.js';
import { createResource, startBenchStack, TIMERS_OFF } from './bench-stack.js';
import { seedThreads } from './seed-threads.js';

const MESSAGES_PER_THREAD = 10;

/**
 * Chat retention purge throughput, planner and workers: 10 000 threads idle for 40 days (2
 * participants and 10 messages each) among 50 000 (the rest active yesterday) are purged by one run,
 * planned by the timer and worked off through the work queue, first by one host, then (another
 * resource with the same data) by two: the first host and a second instance in a process of its
 * own, both on the same embedded stores (which run in the first host's process). The threads are
 * written straight into the embedded Cosmos store with the real client. Store requests are counted
 * at the embedded Cosmos server (both hosts' requests, control plane included). BENCH_RETENTION_SCALE
 * scales the thread counts (0.05 for a quick run).
 */
export async function retentionBench(): Promise<string[]> {
  const stack = await startBenchStack({ ...TIMERS_OFF, ENABLED_GEOGRAPHIES: 'Europe' });
  const lines: string[] = [];
  const scale = Number(process.env.BENCH_RETENTION_SCALE ?? 1);
  const expiring = Math.round(10_000 * scale);
  const fresh = Math.round(40_000 * scale);
  const rates: number[] = [];
  try {
    const svc = services();
    const geo = svc.stores.forGeography(geographyByKey('europe'));
    const containers = { threads: await geo.container('chatThreads'), memberships: await geo.container('chatMemberships') };
    for (const hosts of [1, 2]) {
      const name = `bench-retention-${hosts}-hosts`;
      await createResource(stack, name, 'Europe');
      const resource = await svc.resources.get(name);
      const seedStarted = performance.now();
      const seeded = await seedThreads(containers, resource.id, svc.clock.now(), { expiring, fresh, messages: MESSAGES_PER_THREAD });
      if (process.env.BENCH_VERBOSE) console.log(`seeded ${seeded.items} items in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);
      if (hosts === 2) await stack.startInstance('second host');

      const before = stack.cosmosRequests!();
      const started = performance.now();
      const planned = await fetch(`${stack.httpUrl}/admin/functions/chatRetentionPurge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      if (planned.status !== 202) throw new Error(`planner: ${planned.status}`);
      const planSeconds = (performance.now() - started) / 1000;
      await stack.idle(60 * 60_000);
      const seconds = (performance.now() - started) / 1000;
      const requests = stack.cosmosRequests!() - before;
      const [run] = (await svc.retention.runs.recent('chatRetention', 1)) as PurgeRunRecord[];
      const purged = run?.deleted.chatThreads ?? 0;
      if (run?.status !== 'succeeded' || purged !== expiring) throw new Error(`${hosts} host(s): run ${run?.status}, purged ${purged} of ${expiring}`);
      const messagesPerSecond = (purged * MESSAGES_PER_THREAD) / seconds;
      rates.push(messagesPerSecond);
      lines.push(
        `${hosts} host${hosts > 1 ? 's' : ''}: ${expiring.toLocaleString('en')} of ${(expiring + fresh).toLocaleString('en')} threads expire (${seeded.items.toLocaleString('en')} items stored): ` +
          `planned in ${planSeconds.toFixed(1)} s, all done in ${seconds.toFixed(1)} s; ${(purged / seconds).toFixed(0)} threads/s, ${messagesPerSecond.toFixed(0)} messages/s, ` +
          `${((run.deleted.chatItems ?? 0) / seconds).toFixed(0)} items/s; ${(requests / purged).toFixed(1)} store requests per purged thread (planner and run records included)`,
      );
    }
    lines.push(`two hosts / one host: ${(rates[1]! / rates[0]!).toFixed(2)}x (the embedded stores run in the first host's process, on the same cores)`);
  } finally {
    await stack.stop();
  }
  return lines;
}
