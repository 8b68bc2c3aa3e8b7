import { describe, expect, it } from 'vitest';
import { attentionText, fieldOf, geographyLabel, geographyVerdict, previewSummary } from '../../console/src/words.js';

/**
 * What the privacy console says in words: a geography's marker name (its state never by colour
 * alone), the retention preview's sentence, a purge's attention flag, and which field an API error's
 * target names (the page shows the message there).
 */

const account = (status: 'ok' | 'wrongLocation' | 'shared' | 'notVerified') => ({ status });
const audited = (statuses: ('ok' | 'wrongLocation' | 'shared' | 'notVerified')[], misplacedCount = 0, scanError?: string) => ({
  misplacedCount,
  ...(scanError ? { scanError } : {}),
  accounts: { cosmos: account(statuses[0]!), storage: account(statuses[1]!), topic: account(statuses[2]!) },
});

describe('geography markers', () => {
  it('name the geography, whether it is enabled, its resources and its audit, in words', () => {
    expect(geographyLabel({ name: 'Japan', enabled: true, resourceCount: 1, audit: null })).toBe('Japan, enabled, 1 resource, not audited yet');
    expect(geographyLabel({ name: 'France', enabled: false, resourceCount: 0, audit: null })).toBe('France, not enabled, 0 resources');
    expect(geographyLabel({ name: 'Europe', enabled: true, resourceCount: 2, audit: audited(['ok', 'ok', 'ok']) })).toBe('Europe, enabled, 2 resources, audit ok');
    expect(geographyLabel({ name: 'Europe', enabled: true, resourceCount: 2, audit: audited(['ok', 'notVerified', 'ok']) })).toBe('Europe, enabled, 2 resources, audit could not verify everything');
  });

  it('judge a geography as the audit does: misplaced items or accounts out of place are problems, anything unproven is not verified', () => {
    const verdict = (audit: ReturnType<typeof audited>) => geographyVerdict({ name: 'X', enabled: true, resourceCount: 0, audit });
    expect(verdict(audited(['ok', 'ok', 'ok']))).toBe('ok');
    expect(verdict(audited(['ok', 'ok', 'ok'], 1))).toBe('problemsFound');
    expect(verdict(audited(['ok', 'wrongLocation', 'ok']))).toBe('problemsFound');
    expect(verdict(audited(['shared', 'notVerified', 'ok']))).toBe('problemsFound');
    expect(verdict(audited(['ok', 'ok', 'ok'], 0, 'the store answered 403'))).toBe('notVerified');
    expect(verdict(audited(['notVerified', 'ok', 'ok']))).toBe('notVerified');
    expect(geographyVerdict({ name: 'X', enabled: true, resourceCount: 0, audit: null })).toBeUndefined();
  });
});

describe('the retention preview', () => {
  it('says what is due, why, and what holds keep', () => {
    const preview = (count: number, idle: number, policy: number, kept: number) => ({
      retention: { idleThreadDays: 30 },
      chatThreads: { count, idle, retentionPolicy: policy },
      keptForLegalHold: { count: kept },
    });
    expect(previewSummary(preview(0, 0, 0, 0))).toBe('No chat thread is due. 0 due threads are kept for a legal hold.');
    expect(previewSummary(preview(1, 1, 0, 1))).toBe('1 chat thread is due (1 idle for 30 days or more, 0 past their own retention policy). 1 due thread is kept for a legal hold.');
    expect(previewSummary(preview(5, 2, 3, 2))).toBe('5 chat threads are due (2 idle for 30 days or more, 3 past their own retention policy). 2 due threads are kept for a legal hold.');
  });
});

describe('purge attention flags', () => {
  const time = (iso: string) => `at ${iso}`;
  it('explain in words why a purge needs attention, or that it runs as scheduled', () => {
    expect(attentionText({ schedule: '0 0 * * * *', attention: true, why: 'the last run failed', lastRun: {} }, 0, time)).toBe(
      'Needs attention: the last run failed: what it could not delete is still due, and the next run tries again.',
    );
    expect(attentionText({ schedule: '0 0 * * * *', attention: true, why: 'a run was due at 2030-03-05T03:00:00.000Z and none started', lastRun: {} }, 3, time)).toBe(
      'Needs attention: a run was due at 2030-03-05T03:00:00.000Z and none started.',
    );
    expect(attentionText({ schedule: '0 0 * * * *', attention: false, lastRun: {}, nextDueAt: 'N' }, 2, time)).toBe(
      'Running as scheduled (0 0 * * * *). Next run due at N. 2 earlier runs were missed (marked ▲ on the chart).',
    );
    expect(attentionText({ schedule: '0 0 * * * *', attention: false, lastRun: {}, nextDueAt: 'N' }, 1, time)).toBe('Running as scheduled (0 0 * * * *). Next run due at N. 1 earlier run was missed (marked ▲ on the chart).');
    expect(attentionText({ schedule: '0 */15 * * * *', attention: false, why: 'no run recorded yet' }, 0, time)).toBe('No run recorded yet (schedule 0 */15 * * * *).');
    expect(attentionText(undefined, 0, time)).toBe('No status.');
  });
});

describe('error targets', () => {
  const targets = { 'subjects.identityIds': 'ids', 'subjects.phoneNumbers': 'phones', subjects: 'subjects', action: 'action' };
  it('find the field an error names, the most specific first', () => {
    expect(fieldOf('subjects.phoneNumbers.3', targets)).toBe('phones');
    expect(fieldOf('subjects.identityIds', targets)).toBe('ids');
    expect(fieldOf('subjects', targets)).toBe('subjects');
    expect(fieldOf('subjects.emails.0', targets)).toBe('subjects');
    expect(fieldOf('actionable', targets)).toBeUndefined();
    expect(fieldOf('name', targets)).toBeUndefined();
    expect(fieldOf(undefined, targets)).toBeUndefined();
  });
});
