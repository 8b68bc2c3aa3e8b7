import { describe, expect, it } from 'vitest';
import { redactForMinimal, stableId, toEventRecord } from '../../shared/events/event-record.js';
import { createLogger, scrubDetail, type LogRecord } from '../../shared/telemetry/logger.js';
import { createPseudonymizer } from '../../shared/telemetry/pseudonymizer.js';

describe('event records', () => {
  it('derives stable UUID-shaped ids', () => {
    expect(stableId('a', 'b')).toBe(stableId('a', 'b'));
    expect(stableId('a', 'b')).not.toBe(stableId('ab'));
    expect(stableId('x')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('strips message text, topics and display names at any depth from minimal payloads', () => {
    const data = {
      threadId: 't',
      messageBody: 'secret',
      topic: 'private topic',
      participants: [{ rawId: '8:acs:x', displayName: 'Ann' }],
      properties: { topic: 'x' },
    };
    expect(redactForMinimal(data)).toEqual({ threadId: 't', participants: [{ rawId: '8:acs:x' }] });
  });

  it('gives events of one change the same ids on a retry', () => {
    const options = { changeId: 'c1', index: 0, source: '/s', mode: 'full' as const, now: new Date() };
    expect(toEventRecord({ type: 't', subject: 's', data: {} }, options).id).toBe(toEventRecord({ type: 't', subject: 's', data: {} }, options).id);
  });
});

describe('telemetry', () => {
  it('hashes subjects with a key and scrubs secrets and identities from details', () => {
    const records: LogRecord[] = [];
    const logger = createLogger({ pseudonymize: createPseudonymizer('k'.repeat(32)), sink: (r) => records.push(r) });
    logger.info('x', { subjects: ['8:acs:abc_def', '+14255550123'], detail: 'failed for 8:acs:abc_def with accesskey=SECRET and Bearer eyJhbGc.eyJzdWI.sig' });
    expect(records).toHaveLength(1);
    const [record] = records;
    const hash = createPseudonymizer('k'.repeat(32));
    // Every subject is hashed, in order, each to its own keyed hash.
    expect(record!.subjects).toEqual([hash('8:acs:abc_def'), hash('+14255550123')]);
    for (const subject of record!.subjects!) expect(subject).toMatch(/^h:[\w-]{22}$/);
    expect(new Set(record!.subjects).size).toBe(2);
    expect(record!.detail).toBe('failed for ***id*** with accesskey=*** and Bearer ***');
    expect(JSON.stringify(record)).not.toMatch(/abc_def|SECRET|14255550123|eyJ/);
    expect(createPseudonymizer('k'.repeat(32))('A@b.com')).toBe(createPseudonymizer('k'.repeat(32))('a@B.com'));
    expect(scrubDetail('mail ann@example.com')).toBe('mail ***email***');
  });
});
