import { describe, expect, it } from 'vitest';
import type { ArmAccountCheck, CosmosAccountCheck } from '../../shared/residency/account-locations.js';
import { auditSummary, AuditSummaries } from '../../shared/residency/audit-summary.js';
import type { ResidencyAuditReport } from '../../shared/residency/residency-audit.js';
import { ControlStore } from '../../shared/stores/control-store.js';
import { useEmbeddedCosmos } from '../support/embedded-cosmos.js';

/**
 * What the control plane keeps of a residency audit (the console's last audit): the verdict, counts
 * and each account's status and detail per geography, misplaced items counted where they were found,
 * and no item id. Kept in the embedded Cosmos server as one item, read back without the store's fields.
 */
const cosmos = useEmbeddedCosmos();

const cosmosAccount = (status: CosmosAccountCheck['status'], detail: string): CosmosAccountCheck => ({
  endpointHost: 'europe.documents.azure.com',
  readableLocations: ['westeurope'],
  writableLocations: ['westeurope'],
  status,
  sharedWith: [],
  detail,
});
const armAccount = (status: ArmAccountCheck['status'], detail: string): ArmAccountCheck => ({ account: 'acct', resourceId: '/subscriptions/x', location: 'westeurope', status, sharedWith: ['japan'], detail });

const report: ResidencyAuditReport = {
  startedAt: '2026-12-03T10:00:00.000Z',
  finishedAt: '2026-12-03T10:01:00.000Z',
  verdict: 'problemsFound',
  checked: 120,
  misplacedCount: 3,
  geographies: [
    { geography: 'Europe', cosmosItems: 100, blobs: 7, accounts: { cosmos: cosmosAccount('ok', 'in westeurope'), storage: armAccount('shared', 'shared with Japan'), topic: armAccount('notVerified', 'no topic') } },
    { geography: 'Japan', cosmosItems: 13, blobs: 0, accounts: { cosmos: cosmosAccount('ok', 'c'), storage: armAccount('ok', 's'), topic: armAccount('ok', 't') }, scanError: 'RestError: 503' },
    { geography: 'Atlantis', cosmosItems: 0, blobs: 0, accounts: { cosmos: cosmosAccount('ok', 'c'), storage: armAccount('ok', 's'), topic: armAccount('ok', 't') } },
  ],
  misplaced: [
    { store: 'cosmos', foundIn: 'europe', location: 'chatThreads', id: '8:acs:r_a', resourceId: 'r', resourceGeography: 'japan' },
    { store: 'blob', foundIn: 'europe', location: 'recordings', id: 'r/x', resourceId: 'r', resourceGeography: 'japan' },
    { store: 'cosmos', foundIn: 'japan', location: 'identities', id: '8:acs:s_b', resourceId: 's', resourceGeography: null },
  ],
};

describe('the residency audit summary', () => {
  it('keeps the verdict, counts and accounts per geography by key, misplaced items counted where they were found, and no item id', () => {
    expect(auditSummary(report)).toStrictEqual({
      startedAt: '2026-12-03T10:00:00.000Z',
      finishedAt: '2026-12-03T10:01:00.000Z',
      verdict: 'problemsFound',
      checked: 120,
      misplacedCount: 3,
      geographies: [
        {
          key: 'europe',
          name: 'Europe',
          cosmosItems: 100,
          blobs: 7,
          misplacedCount: 2,
          accounts: { cosmos: { status: 'ok', detail: 'in westeurope' }, storage: { status: 'shared', detail: 'shared with Japan' }, topic: { status: 'notVerified', detail: 'no topic' } },
        },
        { key: 'japan', name: 'Japan', cosmosItems: 13, blobs: 0, misplacedCount: 1, accounts: { cosmos: { status: 'ok', detail: 'c' }, storage: { status: 'ok', detail: 's' }, topic: { status: 'ok', detail: 't' } }, scanError: 'RestError: 503' },
        // A geography name the service does not know stands for its own key.
        { key: 'Atlantis', name: 'Atlantis', cosmosItems: 0, blobs: 0, misplacedCount: 0, accounts: { cosmos: { status: 'ok', detail: 'c' }, storage: { status: 'ok', detail: 's' }, topic: { status: 'ok', detail: 't' } } },
      ],
    });
    expect(JSON.stringify(auditSummary(report))).not.toContain('8:acs:');
  });

  it('stores one summary, the last: none before an audit, then the latest as saved, without the store’s own fields', async () => {
    const control = new ControlStore(async () => cosmos.client(), 'audit-summary');
    const summaries = new AuditSummaries(control);
    expect(await summaries.last()).toBeUndefined();
    await summaries.save(auditSummary(report));
    const later = auditSummary({ ...report, verdict: 'ok', misplacedCount: 0, misplaced: [], finishedAt: '2026-12-03T11:01:00.000Z' });
    await summaries.save(later);
    expect(await summaries.last()).toStrictEqual(later);
    const { resources } = await (await control.container('residencyAudits')).items.readAll<{ id: string }>().fetchAll();
    expect(resources.map((r) => r.id)).toEqual(['last']);
  });
});
