import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../shared/errors/service-error.js';
import { chatRetentionItemSchema, outboxItemSchema, parseWorkItem, privacyItemSchema, recordingPurgeItemSchema } from '../../shared/queues/work-items.js';
import { ALL_WORK_QUEUES, poisonQueueOf, WORK_QUEUE_MESSAGE_ENCODING, WORK_QUEUES } from '../../shared/queues/work-queues.js';
import { validQueueName } from '../../local/queue-binding.js';
import { repoRoot } from '../support/test-stack.js';

/** The work items: what a planner may put in a queue outside the geography, and how a worker reads it. */
const runId = '2026-11-21T10:00:00.000Z_0a1b2c3d';
const resourceId = '8ee11c33-034e-46d5-833c-77cf7babf547';
const thread = { v: 1, kind: 'chatThread', runId, geography: 'japan', resourceId, threadId: '19:abc123@thread.v2', reason: 'idle', expiry: '2026-10-01T00:00:00.000Z' };

describe('work queues', () => {
  it('are valid queue names, each with its poison queue, and encoded as host.json tells the host to decode them', () => {
    expect(ALL_WORK_QUEUES).toHaveLength(2 * Object.keys(WORK_QUEUES).length);
    for (const queue of ALL_WORK_QUEUES) expect(validQueueName(queue), queue).toBe(true);
    expect(poisonQueueOf(WORK_QUEUES.chatRetention)).toBe('work-chat-retention-poison');
    const hostJson = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8')) as { extensions: { queues: { messageEncoding?: string } } };
    expect(hostJson.extensions.queues.messageEncoding ?? 'base64').toBe(WORK_QUEUE_MESSAGE_ENCODING);
  });

  it('every queue function of the app listens on a work queue', () => {
    const sources = ['chat-retention-purge', 'recording-purge', 'privacy-worker', 'outbox-republish'].map((f) => readFileSync(join(repoRoot, 'functions', `${f}.ts`), 'utf8')).join('\n');
    expect([...sources.matchAll(/app\.storageQueue\('/g)]).toHaveLength(ALL_WORK_QUEUES.length);
  });
});

describe('work items', () => {
  it('take what the planners send, as JSON text or already parsed', () => {
    expect(parseWorkItem(chatRetentionItemSchema, thread)).toEqual(thread);
    expect(parseWorkItem(chatRetentionItemSchema, JSON.stringify(thread))).toEqual(thread);
    expect(parseWorkItem(chatRetentionItemSchema, { v: 1, kind: 'privacyResults', runId, geography: 'europe' })).toMatchObject({ kind: 'privacyResults' });
    expect(parseWorkItem(recordingPurgeItemSchema, { v: 1, kind: 'recording', runId, geography: 'europe', resourceId, recordingId: 'a'.repeat(32) })).toMatchObject({ kind: 'recording' });
    expect(parseWorkItem(privacyItemSchema, { v: 1, kind: 'privacyRequest', geography: 'europe', resourceId, requestId: 'b'.repeat(32), ticket: 'c'.repeat(32) })).toMatchObject({ ticket: 'c'.repeat(32) });
    expect(parseWorkItem(outboxItemSchema, { v: 1, kind: 'outboxEntry', geography: 'europe', resourceId, entryId: 'd1e2f3a4-0000-5000-8000-000000000000' })).toMatchObject({ kind: 'outboxEntry' });
  });

  it('refuse anything beyond opaque ids: an identity, a phone number or a file name has no field to go into', () => {
    for (const extra of [{ identityId: `8:acs:${resourceId}_x` }, { phoneNumber: '+14255550123' }, { blobName: `${resourceId}/call with john.wav` }]) {
      expect(() => parseWorkItem(chatRetentionItemSchema, { ...thread, ...extra })).toThrow(ServiceError);
    }
    expect(() => parseWorkItem(chatRetentionItemSchema, { ...thread, threadId: `8:acs:${resourceId}_x` })).toThrow(/threadId/);
    expect(() => parseWorkItem(recordingPurgeItemSchema, { v: 1, kind: 'landingFiles', runId, geography: 'europe', at: '2026-01-01T00:00:00.000Z', name: 'x.wav' })).toThrow(ServiceError);
  });

  it('name the malformed fields, never their values', () => {
    const secret = '+14255550123';
    let error: unknown;
    try {
      parseWorkItem(chatRetentionItemSchema, { ...thread, geography: secret, reason: 'because' });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe('ValidationError');
    expect((error as ServiceError).message).toBe('The work item is malformed: geography, reason.');
    expect(() => parseWorkItem(chatRetentionItemSchema, '{not json')).toThrow('The work item is not JSON.');
    expect(() => parseWorkItem(chatRetentionItemSchema, { ...thread, v: 2 })).toThrow(/v/);
  });
});
