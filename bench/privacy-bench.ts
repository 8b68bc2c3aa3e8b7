import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { messageIdFor } from '../shared/chat/chat-records.js';
import { geographyByKey } from '../shared/geography/geographies.js';
import { operationLogRecord } from '../shared/oplog/operation-log.js';
import { services } from '../shared/services.js';
import { createResource, startBenchStack, TIMERS_OFF, writeAll } from './bench-stack.js';

const THREADS = 20;

/**
 * Data subject requests: export and delete for a subject with 1 000 and 100 000 messages, spread
 * over 20 threads where other people wrote as many messages again, plus one operation log record
 * per ten of the subject's messages and 20 000 log records of other people. The data is written
 * straight into the embedded Cosmos store with the real client. The worker is run in invocations
 * of at most BENCH_PRIVACY_INVOCATION_SECONDS (default 10, far below the worker's real 240) each, so
 * the large cases show the work continuing across invocations from the checkpoint.
 */
export async function privacyBench(): Promise<string[]> {
  // The worker is run by the benchmark, not by its timer.
  const stack = await startBenchStack(TIMERS_OFF);
  const lines: string[] = [];
  const invocationMs = Number(process.env.BENCH_PRIVACY_INVOCATION_SECONDS ?? 10) * 1000;
  try {
    const svc = services();
    const geo = svc.stores.forGeography(geographyByKey('europe'));
    for (const messages of [1000, Number(process.env.BENCH_PRIVACY_MESSAGES ?? 100_000)]) {
      const name = `bench-privacy-${messages}`;
      await createResource(stack, name, 'Europe');
      const resource = await svc.resources.get(name);
      const subject = (await svc.identities.create(resource, {})).identity.id;
      const seedStarted = performance.now();
      const stored = await seed(geo, resource.id, subject, messages);
      if (process.env.BENCH_VERBOSE) console.log(`seeded ${stored} items in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s`);

      for (const action of ['export', 'delete'] as const) {
        const { request } = await svc.privacy.submit(resource, { action, subjects: { identityIds: [subject], phoneNumbers: [], emails: [] } });
        const requestsBefore = stack.cosmosRequests!();
        const started = performance.now();
        let peakRss = process.memoryUsage().rss;
        const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
        let invocations = 0;
        let record = request;
        try {
          do {
            invocations += 1;
            await svc.privacy.work(geo, Date.now() + invocationMs);
            record = await svc.privacy.get(resource, request.id);
          } while (record.status === 'running' || record.status === 'notStarted');
        } finally {
          clearInterval(sampler);
        }
        const seconds = (performance.now() - started) / 1000;
        const storeRequests = stack.cosmosRequests!() - requestsBefore;
        const counts = record.counts.chatMessage;
        const done = action === 'export' ? counts?.found : counts?.deleted;
        if (record.status !== 'succeeded' || done !== messages) throw new Error(`${action} of ${messages}: ${record.status}, ${JSON.stringify(record.counts)}`);
        const size = action === 'export' ? `, bundle ${(record.result!.bytes! / 1024 / 1024).toFixed(1)} MiB` : '';
        lines.push(
          `${action}, subject with ${messages.toLocaleString('en')} messages (${stored.toLocaleString('en')} items stored): ${seconds.toFixed(1)} s, ` +
            `${(messages / seconds).toFixed(0)} messages/s, ${invocations} invocation(s), ${(storeRequests / messages).toFixed(2)} store requests per message, ` +
            `peak RSS ${(peakRss / 1024 / 1024).toFixed(0)} MiB${size}`,
        );
      }
    }
  } finally {
    await stack.stop();
  }
  return lines;
}

/** The subject in 20 threads with a colleague each; both write `messages` messages in all; log records for both. */
async function seed(geo: ReturnType<ReturnType<typeof services>['stores']['forGeography']>, resourceId: string, subject: string, messages: number): Promise<number> {
  const threads = await geo.container('chatThreads');
  const memberships = await geo.container('chatMemberships');
  const logs = await geo.container('operationLogs');
  const items: { container: Container; item: Record<string, unknown> }[] = [];
  const now = Date.now();
  const at = (ms: number) => new Date(ms).toISOString();
  for (let t = 0; t < THREADS; t += 1) {
    const threadId = `19:${randomUUID().replace(/-/g, '')}@thread.v2`;
    const colleague = `8:acs:${resourceId}_${randomUUID()}`;
    const base = { threadId, resourceId };
    const created = at(now - 86_400_000);
    items.push({ container: threads, item: { ...base, id: threadId, kind: 'thread', topic: 'bench', createdOn: created, createdBy: subject, sequence: 0, lastActivityAt: created } });
    for (const identityId of [subject, colleague]) {
      items.push({ container: threads, item: { ...base, id: `p|${identityId}`, kind: 'participant', identityId, addedOn: created } });
      items.push({ container: memberships, item: { id: threadId, identityId, resourceId, threadId, joinedOn: created, sortKey: `${created}|${threadId}` } });
    }
    const perThread = Math.ceil(messages / THREADS);
    for (let m = 0; m < perThread * 2; m += 1) {
      const sequence = m + 1;
      const senderId = m % 2 === 0 ? subject : colleague;
      if (senderId === subject && t * perThread + m / 2 >= messages) continue;
      const createdOn = at(now - 3_600_000 + sequence);
      const messageId = messageIdFor(createdOn, sequence);
      items.push({
        container: threads,
        item: { ...base, id: `m|${messageId}`, messageId, kind: 'message', type: 'text', sequence, version: Date.parse(createdOn), createdOn, senderId, content: `message ${m} of thread ${t}`, mentions: [senderId] },
      });
    }
  }
  for (let l = 0; l < messages / 10 + 20_000; l += 1) {
    const record = operationLogRecord({
      resourceId,
      time: at(now - 60_000 + l),
      operation: 'SendChatMessage',
      method: 'POST',
      status: 201,
      durationMs: 5,
      correlationId: randomUUID(),
      subjects: [l < messages / 10 ? subject : `8:acs:${resourceId}_${randomUUID()}`],
    });
    items.push({ container: logs, item: record as unknown as Record<string, unknown> });
  }
  return writeAll(items);
}
