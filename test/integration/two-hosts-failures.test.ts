import { CosmosClient, type Container } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedThreads } from '../../bench/seed-threads.js';
import type { HostInstance } from '../../local/host-instances.js';
import type { Clock } from '../../shared/clock.js';
import { geographyByKey } from '../../shared/geography/geographies.js';
import { services } from '../../shared/services.js';
import { audio, uploadRecording } from '../support/recordings.js';
import { startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * What goes wrong with work items, on two instances sharing the stores: a work item that fails on
 * every attempt ends in the poison queue and in its run record; an instance killed half-way through
 * a purge loses nothing: the messages it held come back after their visibility timeout (shortened
 * to 2 s here; the host's is 10 minutes) and the other instance finishes them.
 */

/** The first instance's clock: real time plus an offset the tests move (the second instance runs on real time). */
class OffsetClock implements Clock {
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const NEVER = '0 0 0 1 1 *';
const HOUR = 3_600_000;
const clock = new OffsetClock();
let stack: TestStack;
let second: HostInstance;

beforeAll(async () => {
  stack = await startTestStack({
    clock,
    env: {
      ENABLED_GEOGRAPHIES: 'Europe,Japan',
      RETENTION_PURGE_SCHEDULE: NEVER,
      RECORDING_PURGE_SCHEDULE: NEVER,
      PRIVACY_WORKER_SCHEDULE: NEVER,
      OUTBOX_REPUBLISH_SCHEDULE: NEVER,
      LOCAL_BLOB_EVENTS_POLL_MS: '3600000',
    },
    queues: { maxPollingInterval: '00:00:00.400', batchSize: 8, visibilityTimeout: '00:00:00.200', maxDequeueCount: 3 },
    processingVisibilitySeconds: 2,
  });
  second = await stack.startInstance('second host');
}, 180_000);
afterAll(async () => stack?.stop());

const cosmos = () => new CosmosClient({ endpoint: stack.stores.cosmosEndpoint, key: stack.stores.cosmosKey, connectionPolicy: { enableEndpointDiscovery: false } });
const europe = (name: string): Container => cosmos().database('acs-europe').container(name);
const runs = async (kind: string) => (await stack.management('GET', '/api/management/purgeRuns')).body.runs[kind] as Record<string, any>[];
const newRun = async (kind: string, before: Set<string>) => (await runs(kind)).find((r) => !before.has(r.id as string));

describe('work items that fail, instances that die', () => {
  it('a work item that fails on every attempt goes to the poison queue and shows in its run; the next run takes it up again', { timeout: 120_000 }, async () => {
    const resource = await stack.createResource('poisoned', 'Europe');
    const upload = await uploadRecording(stack, resource, { content: audio(64), date: clock.now() });
    expect(upload.status, upload.text).toBe(201);
    // The blob under an infinite lease: every delete of it is refused (412), on the real store.
    const blob = BlobServiceClient.fromConnectionString(stack.stores.storageConnectionString).getContainerClient('acs-europe-recordings').getBlobClient(`${resource.id}/${upload.body.id}`);
    const lease = blob.getBlobLeaseClient();
    await lease.acquireLease(-1);
    clock.offsetMs += 49 * HOUR;

    const before = new Set((await runs('recordingPurge')).map((r) => r.id as string));
    await stack.runFunction('recordingPurge');
    const run = await newRun('recordingPurge', before);
    expect(run).toMatchObject({ status: 'failed', planning: 'done', planned: 1, done: 0, failed: 1, settled: 1, errors: 1 });
    expect(run!.failure).toMatch(/1 work item\(s\) failed on every attempt and went to the poison queue/);
    // It went through the poison queue: the poison function of one of the instances took it from there.
    const poisonRuns = (stack.host.queueTriggers.completed.get('recordingPurgePoison') ?? 0) + ((await second.completed()).recordingPurgePoison ?? 0);
    expect(poisonRuns).toBe(1);
    expect(stack.logs.filter((line) => line.includes("moved to 'work-recording-purge-poison'"))).toHaveLength(1);
    expect(await blob.exists()).toBe(true);

    await lease.breakLease(0);
    const again = new Set((await runs('recordingPurge')).map((r) => r.id as string));
    await stack.runFunction('recordingPurge');
    expect(await newRun('recordingPurge', again)).toMatchObject({ status: 'succeeded', planned: 1, done: 1, failed: 0, deleted: { recordings: 1 } });
    expect(await blob.exists()).toBe(false);
  });

  it('an instance killed half-way through a purge loses nothing: its work items come back and the other instance finishes them', { timeout: 240_000 }, async () => {
    const THREADS = 150;
    const resource = await stack.createResource('kill-one', 'Europe');
    const geo = services().stores.forGeography(geographyByKey('europe'));
    const seeded = await seedThreads({ threads: await geo.container('chatThreads'), memberships: await geo.container('chatMemberships') }, resource.id, clock.now(), {
      expiring: THREADS,
      fresh: 0,
      messages: 5,
    });
    const ids = new Set(seeded.expiring);
    const received = stack.topic!.received().length;
    const before = new Set((await runs('chatRetention')).map((r) => r.id as string));
    const secondBefore = (await second.completed()).chatRetentionWork ?? 0;

    // The planner enqueues everything; once the second instance has done 10 items, it dies (SIGKILL) with
    // at least 2 in their function: it checks that itself, so none of them can finish in between.
    const planned = fetch(`${stack.httpUrl}/admin/functions/chatRetentionPurge`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    await second.dieWhen('chatRetentionWork', { completed: secondBefore + 10, invoking: 2 });
    expect((await planned).status).toBe(202);
    await stack.idle(180_000);
    // The messages the dead instance held were delivered again, to this one.
    expect(stack.host.queueTriggers.redelivered.get('chatRetentionWork') ?? 0).toBeGreaterThan(0);

    // Events of changes the dead instance committed but did not publish wait in the outbox; the republisher sends them after its grace.
    clock.offsetMs += 2 * 60_000;
    await stack.runFunction('outboxRepublish');

    const remaining = await europe('chatThreads').items.query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE ARRAY_CONTAINS(@ids, c.threadId)', parameters: [{ name: '@ids', value: seeded.expiring }] }).fetchAll();
    expect(remaining.resources).toEqual([0]);
    const memberships = await europe('chatMemberships').items.query<number>({ query: 'SELECT VALUE COUNT(1) FROM c WHERE ARRAY_CONTAINS(@ids, c.threadId)', parameters: [{ name: '@ids', value: seeded.expiring }] }).fetchAll();
    expect(memberships.resources).toEqual([0]);
    const events = stack.topic!.received().slice(received).map((r) => r.event as { id: string; type: string; data: { threadId?: string } }).filter((e) => ids.has(e.data.threadId ?? ''));
    // Every event of every thread arrived, with the ids its change derived: 3 distinct ids per thread, no other.
    const distinct = new Map(events.map((e) => [e.id, e]));
    expect(distinct.size).toBe(3 * THREADS);
    expect([...distinct.values()].filter((e) => e.type === 'Microsoft.Communication.ChatThreadDeleted').map((e) => e.data.threadId).sort()).toEqual([...seeded.expiring].sort());
    const audit = await europe('auditRecords').items.query<string>({ query: "SELECT VALUE c.subjectId FROM c WHERE c.resourceId = @r AND c.action = 'chatThread.purged'", parameters: [{ name: '@r', value: resource.id }] }).fetchAll();
    expect(audit.resources.sort()).toEqual([...seeded.expiring].sort());

    const run = await newRun('chatRetention', before);
    // Each work item counted once, whichever instance ran it and however often it was delivered: a
    // thread each, an operation log item per active resource, a finished-requests item per geography.
    const resources = (await services().registry.list()).filter((r) => r.state === 'active').length;
    const items = THREADS + resources + 2;
    expect(run).toMatchObject({ status: 'succeeded', planned: items, done: items, settled: items, failed: 0, deleted: { chatThreads: THREADS } });
    // Items the dead instance deleted before it died are not counted again by the attempt that finished the thread.
    expect(run!.deleted.chatItems).toBeLessThanOrEqual(8 * THREADS);
  });
});
