import { HttpRequest } from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { privacyListQuery, requestView } from '../../shared/privacy/privacy-http.js';
import type { PrivacyRequestRecord } from '../../shared/privacy/privacy-request.js';
import { PHASES } from '../../shared/privacy/request-phases.js';

/** The privacy API's wire view of a request and its list query, exact for each action and state. */
const locate = (path: string) => `https://privacy.example${path}`;

const record = (fields: Partial<PrivacyRequestRecord>): PrivacyRequestRecord => ({
  id: 'req-1',
  resourceId: 'resource-1',
  kind: 'privacyRequest',
  action: 'inventory',
  status: 'running',
  subjects: null,
  subjectHashes: ['h1', 'h2'],
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:05:00.000Z',
  lease: null,
  phase: 2,
  cursor: null,
  inFlight: null,
  rounds: 0,
  counts: { identities: { found: 2, held: 1, deleted: 0 } },
  holdIds: ['hold-1'],
  bundle: null,
  result: null,
  error: null,
  expiresAt: null,
  ...fields,
});

describe('the wire view of a privacy request', () => {
  it('a running inventory: its phase by name and place, found and held per kind, no result even when one is recorded', () => {
    expect(requestView(locate, record({ result: { blobName: 'b', bytes: 10 } }))).toEqual({
      id: 'req-1',
      action: 'inventory',
      status: 'running',
      createdDateTime: '2026-12-01T10:00:00.000Z',
      lastUpdatedDateTime: '2026-12-01T10:05:00.000Z',
      subjects: { count: 2, hashes: ['h1', 'h2'] },
      progress: { phase: PHASES.inventory[2]!.name, phasesCompleted: 2, phasesTotal: PHASES.inventory.length },
      counts: { identities: { found: 2, held: 1 } },
      holdIds: ['hold-1'],
    });
  });

  it('a finished export: done, every phase completed, its completion time and where its result is until it expires', () => {
    const view = requestView(
      locate,
      record({ action: 'export', status: 'succeeded', phase: PHASES.export.length, completedAt: '2026-12-01T11:00:00.000Z', expiresAt: '2026-12-08T11:00:00.000Z', result: { blobName: 'b', bytes: 512 } }),
    );
    expect(view).toMatchObject({
      completedDateTime: '2026-12-01T11:00:00.000Z',
      progress: { phase: 'done', phasesCompleted: PHASES.export.length, phasesTotal: PHASES.export.length },
      result: { location: 'https://privacy.example/privacy/requests/req-1/result', bytes: 512, expiresDateTime: '2026-12-08T11:00:00.000Z' },
    });
    expect(Object.keys(view.progress as object)).toEqual(['phase', 'phasesCompleted', 'phasesTotal']);
  });

  it('an export whose result a later erasure removed says which request erased it', () => {
    expect(requestView(locate, record({ action: 'export', status: 'succeeded', phase: PHASES.export.length, result: { erasedBy: 'req-9' } })).result).toEqual({ erasedBy: 'req-9' });
  });

  it('a delete: its round, failed attempts, every count kept, and its receipt once done', () => {
    const running = requestView(locate, record({ action: 'delete', phase: 1, rounds: 1, failures: 3, counts: { identities: { found: 2, held: 1, deleted: 1 } } }));
    expect(running.progress).toEqual({ phase: PHASES.delete[1]!.name, phasesCompleted: 1, phasesTotal: PHASES.delete.length, round: 2, failedAttempts: 3 });
    expect(running.counts).toEqual({ identities: { found: 2, held: 1, deleted: 1 } });
    const done = requestView(locate, record({ action: 'delete', status: 'succeeded', phase: PHASES.delete.length + 1, result: { receiptId: 'rcpt-1' } }));
    expect(done.result).toEqual({ receiptId: 'rcpt-1', receiptLocation: 'https://privacy.example/privacy/receipts/rcpt-1' });
    expect(done.progress).toEqual({ phase: 'done', phasesCompleted: PHASES.delete.length, phasesTotal: PHASES.delete.length, round: 1 });
  });

  it('a request past its last phase but not succeeded is finishing; a failed one carries its error and no result', () => {
    const failed = requestView(
      locate,
      record({ status: 'failed', phase: PHASES.inventory.length, result: { blobName: 'b', bytes: 1 }, error: { code: 'RequestFailed', message: 'It failed 10 times in a row.' } }),
    );
    expect(failed.progress).toEqual({ phase: 'finishing', phasesCompleted: PHASES.inventory.length, phasesTotal: PHASES.inventory.length });
    expect(failed.error).toEqual({ code: 'RequestFailed', message: 'It failed 10 times in a row.' });
    expect(failed).not.toHaveProperty('result');
    expect(failed).not.toHaveProperty('completedDateTime');
  });
});

describe('the list query', () => {
  const query = (search: string) => privacyListQuery(new HttpRequest({ method: 'GET', url: `https://privacy.example/privacy/requests${search}` }));
  const refusal = (search: string) => {
    try {
      query(search);
    } catch (error) {
      return { code: (error as { code?: string }).code, message: (error as Error).message, target: (error as { target?: string }).target };
    }
    throw new Error(`accepted ${search}`);
  };

  it('takes 50 by default, 1 to 100, a skipToken that is a time and a subject of 1 to 320 characters', () => {
    expect(query('')).toEqual({ maxPageSize: 50 });
    expect(query('?maxPageSize=1')).toEqual({ maxPageSize: 1 });
    expect(query('?maxPageSize=100&skipToken=2026-12-01T10:00:00.000Z&subject=alice@contoso.example')).toEqual({ maxPageSize: 100, before: '2026-12-01T10:00:00.000Z', subject: 'alice@contoso.example' });
    expect(query(`?subject=${'a'.repeat(320)}`)).toEqual({ maxPageSize: 50, subject: 'a'.repeat(320) });
  });

  it('refuses, naming the parameter: a page size of 0 or 101, a skipToken that is not a time, an empty subject or one of 321 characters', () => {
    const invalid = (target: string, message: string) => ({ code: 'ValidationError', target, message: `Invalid query: ${target}: ${message}` });
    expect(refusal('?maxPageSize=0')).toEqual(invalid('maxPageSize', 'maxPageSize must be between 1 and 100'));
    expect(refusal('?maxPageSize=101')).toEqual(invalid('maxPageSize', 'maxPageSize must be between 1 and 100'));
    expect(refusal('?skipToken=yesterday')).toEqual(invalid('skipToken', 'skipToken must be the value a nextLink carries'));
    expect(refusal('?subject=')).toEqual(invalid('subject', 'Too small: expected string to have >=1 characters'));
    expect(refusal(`?subject=${'a'.repeat(321)}`)).toEqual(invalid('subject', 'Too big: expected string to have <=320 characters'));
  });
});
