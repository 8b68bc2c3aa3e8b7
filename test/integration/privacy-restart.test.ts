import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../shared/clock.js';
import { parseSettings } from '../../shared/config/settings.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import { createServices, services, type Services } from '../../shared/services.js';
import { all, createChatUser, userRef, type ChatUser } from '../support/chat-users.js';
import { PrivacyClient } from '../support/privacy.js';
import { startTestStack, type ResourceView, type TestStack } from '../support/test-stack.js';

/**
 * A delete interrupted half-way: a second process (its own services on the same stores) takes the
 * request and dies between writing a step to the checkpoint and applying it, holding the lease.
 * The host's worker leaves the request alone while the lease holds, then resumes it from the
 * checkpoint, redoes the interrupted step, and completes with exact counts.
 */

let stack: TestStack;
const clock = new ManualClock(new Date());
let resource: ResourceView;
let privacy: PrivacyClient;
let alice: ChatUser, bob: ChatUser;
let crashed: Services | undefined;
const WORKER_SECONDS = 10;

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    env: { PRIVACY_WORKER_SCHEDULE: '0 0 0 1 1 *', PRIVACY_PAGE_SIZE: '10', PRIVACY_WORKER_MAX_SECONDS: String(WORKER_SECONDS), LOCAL_BLOB_EVENTS_POLL_MS: '3600000' },
  });
  resource = await stack.createResource('dsr-restart', 'Europe');
  privacy = new PrivacyClient(() => stack, resource, clock);
  [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
  for (const topic of ['one', 'two']) {
    const { chatThread } = await alice.chat.createChatThread({ topic }, { participants: [{ id: userRef(bob) }] });
    for (let i = 0; i < 25; i += 1) await alice.thread(chatThread!.id).sendMessage({ content: `${topic} ${i}` });
    await bob.thread(chatThread!.id).sendMessage({ content: `bob in ${topic}` });
  }
});
afterAll(async () => {
  crashed?.dispose();
  await stack?.stop();
});

describe('an interrupted request', () => {
  it('is picked up again after a restart and completes, counting every item once', async () => {
    const inventory = await privacy.run('inventory', { identityIds: [alice.id] });
    const before = (await privacy.result(inventory.id)).counts as Record<string, { found: number }>;
    expect(before.chatMessage!.found).toBe(50);

    const { id } = await privacy.submit('delete', { identityIds: [alice.id] });
    let steps = 0;
    let died!: (request: PrivacyRequestRecord) => void;
    const death = new Promise<PrivacyRequestRecord>((resolve) => (died = resolve));
    crashed = createServices(parseSettings(stack.env), {
      clock,
      // The third erasure step is written to the checkpoint and then the process "dies": it never continues.
      privacyAfterCheckpoint: async (request) => {
        if (request.inFlight && ++steps === 3) {
          died(request);
          await new Promise(() => {});
        }
      },
    });
    const geo = crashed.stores.forGeography(geographyByKey('europe'));
    void crashed.privacy.work(geo, Date.now() + 60_000);
    const atDeath = await death;
    // The step it died in: a full page (PRIVACY_PAGE_SIZE) of alice's messages, to be deleted.
    expect(atDeath.inFlight?.work).toHaveLength(10);
    expect(atDeath.inFlight!.deleted).toEqual({ chatMessage: 10 });

    // While the dead worker's lease holds, the host leaves the request alone.
    await privacy.runWorker();
    const held = (await privacy.status(id)).body;
    expect(held.status).toBe('running');
    const { resource: stored } = await (await services().stores.forGeography(geographyByKey('europe')).container('privacyRequests')).item(id, resource.id).read<PrivacyRequestRecord>();
    expect(stored?.inFlight).toEqual(atDeath.inFlight);

    // After the lease runs out, the host's worker resumes from the checkpoint and finishes.
    const start = clock.now();
    let view: Record<string, any>;
    let receipt: Record<string, any>;
    try {
      clock.advance((WORKER_SECONDS + 61) * 1000);
      view = await privacy.finished(id);
      expect(view.status).toBe('succeeded');
      expect(view.counts.chatMessage).toEqual({ found: 50, held: 0, deleted: 50 });
      receipt = (await privacy.call('GET', `/privacy/receipts/${view.result.receiptId}`)).body;
    } finally {
      clock.set(start);
    }
    expect(receipt.deleted).toMatchObject({ chatMessage: 50, identity: 1, chatParticipation: 2 });
    // Every item once: the redone step counted no message twice.
    expect(receipt.deleted).toEqual({
      accessTokens: 1,
      identity: 1,
      chatMessage: 50,
      // Each thread's participantAdded and topicUpdated.
      chatSystemMessage: 4,
      chatParticipation: 2,
      // Her identity, her 2 threads, her 50 messages.
      operationLog: 1 + 2 + 50,
      // The inventory's result.
      privacyResult: 1,
      // Her 2 threads and her 2 removals (the 52 sends that named her had their entries in the
      // threads' partitions, deleted once published).
      outboxEntry: 2 + 2,
    });

    const fresh = await privacy.run('inventory', { identityIds: [alice.id] });
    expect(Object.values((await privacy.result(fresh.id)).data).flat()).toEqual([]);
    const bobsThreads = (await all(bob.chat.listChatThreads())).map((t) => t.id);
    expect(bobsThreads).toHaveLength(2);
    for (const threadId of bobsThreads) {
      const texts = (await all(bob.thread(threadId).listMessages())).filter((m) => m.type === 'text').map((m) => m.content?.message);
      expect(texts).toEqual([expect.stringMatching(/^bob in /)]);
    }
  });

  it('waits for events that are not yet published instead of dropping them, then completes', async () => {
    await stack.topic!.stop();
    let view: Record<string, any>;
    try {
      const { id } = await privacy.submit('delete', { identityIds: [bob.id] });
      await privacy.runWorker();
      view = (await privacy.status(id)).body;
      // Bob's removal from his threads was announced while the topic is down: those events wait in the outbox.
      expect(view.status).toBe('running');
      expect(view.progress.phase).toBe('outboxEvents');
      const pending = await pendingEntriesNaming(bob.id);
      // His removal from each of his two threads.
      expect(pending).toBe(2);
    } finally {
      await stack.topic!.start();
    }
    const start = clock.now();
    let done: Record<string, any>;
    try {
      clock.advance(2 * 60_000);
      const republished = await fetch(`${stack.httpUrl}/admin/functions/outboxRepublish`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(republished.status).toBe(202);
      done = await privacy.finished(view.id);
    } finally {
      clock.set(start);
    }
    expect(done.status).toBe('succeeded');
    // The two entries it waited for, erased once published.
    expect(done.counts.outboxEntry).toEqual({ found: 2, held: 0, deleted: 2 });
    expect(await pendingEntriesNaming(bob.id)).toBe(0);
    const removed = stack.topic!.received().filter((r) => r.event.type === 'Microsoft.Communication.ChatThreadParticipantRemoved' && JSON.stringify(r.event.data).includes(bob.id));
    expect(removed.length).toBe(2);
  });
});

async function pendingEntriesNaming(id: string): Promise<number> {
  const outbox = await services().stores.forGeography(geographyByKey('europe')).container('outbox');
  const { resources } = await outbox.items
    .query<number>({ query: "SELECT VALUE c.id FROM c WHERE ARRAY_CONTAINS(c.subjects, @id) AND c.status != 'published'", parameters: [{ name: '@id', value: id }] })
    .fetchAll();
  return resources.length;
}
