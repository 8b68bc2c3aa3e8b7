import type { ControlStore } from '../stores/control-store.js';
import { findGeography } from '../geography/geographies.js';
import type { AccountStatus } from './account-locations.js';
import type { AuditVerdict, ResidencyAuditReport } from './residency-audit.js';

/**
 * The last residency audit's result as the control plane keeps it (container `residencyAudits`, one
 * item): the verdict, counts and each account's status per geography. No item ids: a misplaced
 * item's id can name a person (an identity id), and the control plane holds no personal data, so the
 * list of misplaced items is only in the audit's own answer.
 */
export interface AuditSummary {
  startedAt: string;
  finishedAt: string;
  verdict: AuditVerdict;
  checked: number;
  misplacedCount: number;
  geographies: GeographyAuditSummary[];
}

export interface GeographyAuditSummary {
  /** The geography's key (`europe`). */
  key: string;
  name: string;
  cosmosItems: number;
  blobs: number;
  /** Misplaced items found in this geography's stores. */
  misplacedCount: number;
  accounts: Record<'cosmos' | 'storage' | 'topic', { status: AccountStatus; detail: string }>;
  scanError?: string;
}

const LAST_ID = 'last';

export function auditSummary(report: ResidencyAuditReport): AuditSummary {
  return {
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    verdict: report.verdict,
    checked: report.checked,
    misplacedCount: report.misplacedCount,
    geographies: report.geographies.map((g) => {
      const key = findGeography(g.geography)?.key ?? g.geography;
      const account = ({ status, detail }: { status: AccountStatus; detail: string }) => ({ status, detail });
      return {
        key,
        name: g.geography,
        cosmosItems: g.cosmosItems,
        blobs: g.blobs,
        misplacedCount: report.misplaced.filter((m) => m.foundIn === key).length,
        accounts: { cosmos: account(g.accounts.cosmos), storage: account(g.accounts.storage), topic: account(g.accounts.topic) },
        ...(g.scanError ? { scanError: g.scanError } : {}),
      };
    }),
  };
}

export class AuditSummaries {
  constructor(private readonly control: ControlStore) {}

  async save(summary: AuditSummary): Promise<void> {
    await (await this.control.container('residencyAudits')).items.upsert({ id: LAST_ID, ...summary });
  }

  /** The last audit's summary; undefined when none has run. */
  async last(): Promise<AuditSummary | undefined> {
    const { resource } = await (await this.control.container('residencyAudits')).item(LAST_ID, LAST_ID).read<AuditSummary & { id: string } & Record<string, unknown>>();
    if (!resource) return undefined;
    const { id: _id, ...rest } = resource;
    return Object.fromEntries(Object.entries(rest).filter(([key]) => !key.startsWith('_'))) as unknown as AuditSummary;
  }
}
