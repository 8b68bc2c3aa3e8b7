/**
 * What the console says, in words (never by colour alone), kept free of the DOM and of Preact so the
 * unit tests can check it (test/unit/console-words.test.ts).
 */
export type Verdict = 'ok' | 'problemsFound' | 'notVerified';
type AccountStatus = 'ok' | 'wrongLocation' | 'shared' | 'notVerified';

export const AUDIT_WORDS: Record<Verdict, { symbol: string; words: string }> = {
  ok: { symbol: '✓', words: 'audit ok' },
  problemsFound: { symbol: '✗', words: 'audit found problems' },
  notVerified: { symbol: '?', words: 'audit could not verify everything' },
};

interface GeographyFacts {
  name: string;
  enabled: boolean;
  resourceCount: number;
  audit: { misplacedCount: number; scanError?: string; accounts: Record<string, { status: AccountStatus }> } | null;
}

/** A geography's verdict from its own part of the last audit (as the audit decides the overall one). */
export function geographyVerdict(g: GeographyFacts): Verdict | undefined {
  if (!g.audit) return undefined;
  const statuses = Object.values(g.audit.accounts).map((a) => a.status);
  if (g.audit.misplacedCount > 0 || statuses.some((s) => s === 'wrongLocation' || s === 'shared')) return 'problemsFound';
  return !g.audit.scanError && statuses.every((s) => s === 'ok') ? 'ok' : 'notVerified';
}

export const resourcesWord = (n: number) => `${n} ${n === 1 ? 'resource' : 'resources'}`;

/** The accessible name of a geography's marker on the map: name, enabled, resources, audit. */
export function geographyLabel(g: GeographyFacts): string {
  const verdict = geographyVerdict(g);
  return [g.name, g.enabled ? 'enabled' : 'not enabled', resourcesWord(g.resourceCount), verdict ? AUDIT_WORDS[verdict].words : g.enabled ? 'not audited yet' : '']
    .filter(Boolean)
    .join(', ');
}

interface PreviewFacts {
  retention: { idleThreadDays: number };
  chatThreads: { count: number; idle: number; retentionPolicy: number };
  keptForLegalHold: { count: number };
}

/** The retention preview in one sentence: what is due, why, and what holds keep. */
export function previewSummary({ chatThreads: threads, keptForLegalHold: kept, retention }: PreviewFacts): string {
  const due =
    threads.count === 0
      ? 'No chat thread is due.'
      : `${threads.count} chat ${threads.count === 1 ? 'thread is' : 'threads are'} due (${threads.idle} idle for ${retention.idleThreadDays} days or more, ${threads.retentionPolicy} past their own retention policy).`;
  return `${due} ${kept.count} ${kept.count === 1 ? 'due thread is' : 'due threads are'} kept for a legal hold.`;
}

interface PurgeStatusFacts {
  schedule: string;
  lastRun?: unknown;
  nextDueAt?: string;
  attention: boolean;
  why?: string;
}

/** A purge's attention flag in words: why someone should look, or that it runs as scheduled. */
export function attentionText(status: PurgeStatusFacts | undefined, missed: number, formatTime: (iso: string) => string): string {
  if (!status) return 'No status.';
  if (status.attention) {
    const why = status.why === 'the last run failed' ? 'the last run failed: what it could not delete is still due, and the next run tries again' : status.why;
    return `Needs attention: ${why}.`;
  }
  if (!status.lastRun) return `No run recorded yet (schedule ${status.schedule}).`;
  const next = status.nextDueAt ? ` Next run due ${formatTime(status.nextDueAt)}.` : '';
  const gaps = missed > 0 ? ` ${missed} earlier ${missed === 1 ? 'run was' : 'runs were'} missed (marked ▲ on the chart).` : '';
  return `Running as scheduled (${status.schedule}).${next}${gaps}`;
}

/**
 * The field an API error's `target` names: the longest prefix in `targets` that is the target or a
 * parent of it (`subjects.phoneNumbers` for `subjects.phoneNumbers.3`); undefined when none is.
 */
export function fieldOf(target: string | undefined, targets: Record<string, string>): string | undefined {
  if (!target) return undefined;
  const match = Object.keys(targets)
    .sort((a, b) => b.length - a.length)
    .find((prefix) => target === prefix || target.startsWith(`${prefix}.`));
  return match === undefined ? undefined : targets[match];
}
