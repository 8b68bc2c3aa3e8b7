import { randomUUID } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import { writeAll } from './bench-stack.js';

const DAY = 86_400_000;

export interface SeededThreads {
  /** The threads idle for 40 days (due for the retention purge). */
  expiring: string[];
  /** Items written in all. */
  items: number;
}

/**
 * Writes `expiring` threads idle for 40 days (2 participants with memberships, and `messages`
 * messages each) and `fresh` threads active yesterday, straight into the embedded Cosmos store with
 * the real client (the chat API would take minutes for tens of thousands). For the retention
 * benchmark and the two-host tests.
 */
export async function seedThreads(
  containers: { threads: Container; memberships: Container },
  resourceId: string,
  now: Date,
  counts: { expiring: number; fresh: number; messages: number },
): Promise<SeededThreads> {
  const items: { container: Container; item: Record<string, unknown> }[] = [];
  const idleSince = new Date(now.getTime() - 40 * DAY).toISOString();
  const yesterday = new Date(now.getTime() - DAY).toISOString();
  const expiring: string[] = [];
  for (let t = 0; t < counts.expiring + counts.fresh; t += 1) {
    const threadId = `19:${randomUUID().replace(/-/g, '')}@thread.v2`;
    const at = t < counts.expiring ? idleSince : yesterday;
    const base = { threadId, resourceId };
    items.push({ container: containers.threads, item: { ...base, id: threadId, kind: 'thread', topic: 'seeded', createdOn: at, createdBy: 'x', sequence: counts.messages, lastActivityAt: at } });
    if (t >= counts.expiring) continue;
    expiring.push(threadId);
    for (let p = 0; p < 2; p += 1) {
      const identityId = `8:acs:${resourceId}_${randomUUID()}`;
      items.push({ container: containers.threads, item: { ...base, id: `p|${identityId}`, kind: 'participant', identityId, addedOn: at } });
      items.push({ container: containers.memberships, item: { id: threadId, identityId, resourceId, threadId, sortKey: at } });
    }
    for (let m = 1; m <= counts.messages; m += 1) {
      items.push({ container: containers.threads, item: { ...base, id: `m|${m}`, kind: 'message', sequence: m, type: 'text', content: { message: 'seeded message text' }, createdOn: at } });
    }
  }
  return { expiring, items: await writeAll(items) };
}
