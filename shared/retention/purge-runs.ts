import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { ControlStore } from '../stores/control-store.js';
import { nextDue, PURGE_KINDS, purgeSchedule, type PurgeKind } from './purge-schedules.js';

/**
 * Every purge run leaves a record in the control plane (container `purgeRuns`, partition `/kind`):
 * written as `running` when it starts and completed when it ends, so a run that crashed stays
 * visible as `running` past its time budget. No personal data: counts, opaque ids of what a hold
 * kept, errors as counts and our own messages.
 */
export interface HeldItem {
  resourceId: string;
  subjectType: 'chatThread' | 'recording';
  subjectId: string;
  holdIds: string[];
}

export interface PurgeTotals {
  examined: number;
  deleted: Record<string, number>;
  skippedForHold: HeldItem[];
  errors: number;
  stoppedAtBudget: boolean;
}

export interface PurgeRunRecord extends PurgeTotals {
  id: string;
  kind: PurgeKind;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** How many items holds kept (the list above is capped). */
  skippedForHoldCount?: number;
  failure?: string;
}

/** How many held items a record lists (the count is always complete). */
const MAX_LISTED_HELD = 200;

export function emptyTotals(): PurgeTotals {
  return { examined: 0, deleted: {}, skippedForHold: [], errors: 0, stoppedAtBudget: false };
}

export function addTotals(into: PurgeTotals, more: PurgeTotals): PurgeTotals {
  into.examined += more.examined;
  for (const [kind, count] of Object.entries(more.deleted)) into.deleted[kind] = (into.deleted[kind] ?? 0) + count;
  into.skippedForHold.push(...more.skippedForHold);
  into.errors += more.errors;
  into.stoppedAtBudget ||= more.stoppedAtBudget;
  return into;
}

export interface PurgeStatus {
  kind: PurgeKind;
  schedule: string;
  lastRun?: { id: string; status: PurgeRunRecord['status'] | 'interrupted'; startedAt: string; finishedAt?: string };
  /** When the next run is due after the last one started. */
  nextDueAt?: string;
  /** True when a run was due (by the schedule, plus a grace) and none started, or the last one failed or was interrupted. */
  attention: boolean;
  why?: string;
}

export class PurgeRuns {
  constructor(private readonly deps: { control: ControlStore; clock: Clock; graceMs: number }) {}

  /** Runs `work` as a recorded run of `kind`: the record is written before and completed after. */
  async record(kind: PurgeKind, work: () => Promise<PurgeTotals>): Promise<PurgeRunRecord> {
    const container = await this.deps.control.container('purgeRuns');
    const started = Date.now();
    const run: PurgeRunRecord = { id: `${this.deps.clock.now().toISOString()}_${randomUUID().slice(0, 8)}`, kind, status: 'running', startedAt: this.deps.clock.now().toISOString(), ...emptyTotals() };
    await container.items.upsert(run);
    let finished: PurgeRunRecord;
    try {
      const totals = await work();
      finished = { ...run, ...totals, status: 'succeeded' };
    } catch (error) {
      finished = { ...run, status: 'failed', failure: error instanceof Error ? error.message.slice(0, 300) : String(error) };
    }
    finished.finishedAt = this.deps.clock.now().toISOString();
    finished.durationMs = Date.now() - started;
    finished.skippedForHoldCount = finished.skippedForHold.length;
    finished.skippedForHold = finished.skippedForHold.slice(0, MAX_LISTED_HELD);
    await container.items.upsert(finished);
    return finished;
  }

  async recent(kind: PurgeKind, limit: number): Promise<PurgeRunRecord[]> {
    const container = await this.deps.control.container('purgeRuns');
    const { resources } = await container.items
      .query<PurgeRunRecord>({ query: 'SELECT TOP @n * FROM c WHERE c.kind = @kind ORDER BY c.startedAt DESC', parameters: [{ name: '@n', value: limit }, { name: '@kind', value: kind }] }, { partitionKey: kind })
      .fetchAll();
    return resources.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !k.startsWith('_'))) as unknown as PurgeRunRecord);
  }

  /** Whether each purge ran when due, from its last run and its schedule. */
  async status(env: Record<string, string | undefined> = process.env): Promise<PurgeStatus[]> {
    const now = this.deps.clock.now();
    const statuses: PurgeStatus[] = [];
    for (const kind of PURGE_KINDS) {
      const schedule = purgeSchedule(kind, env);
      const [last] = await this.recent(kind, 1);
      if (!last) {
        statuses.push({ kind, schedule, attention: false, why: 'no run recorded yet' });
        continue;
      }
      const due = await nextDue(schedule, new Date(last.startedAt));
      const interrupted = last.status === 'running' && now.getTime() - Date.parse(last.startedAt) > this.deps.graceMs;
      const missed = due !== undefined && now.getTime() > due.getTime() + this.deps.graceMs;
      const status: PurgeStatus = {
        kind,
        schedule,
        lastRun: { id: last.id, status: interrupted ? 'interrupted' : last.status, startedAt: last.startedAt, ...(last.finishedAt ? { finishedAt: last.finishedAt } : {}) },
        ...(due ? { nextDueAt: due.toISOString() } : {}),
        attention: interrupted || missed || last.status === 'failed',
      };
      if (last.status === 'failed') status.why = 'the last run failed';
      else if (interrupted) status.why = 'the last run started and never finished';
      else if (missed) status.why = `a run was due at ${due!.toISOString()} and none started`;
      statuses.push(status);
    }
    return statuses;
  }
}
