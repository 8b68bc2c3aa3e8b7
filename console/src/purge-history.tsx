import { FormError, formatTime } from './field';
import type { PurgeKind, PurgeRun, PurgeRuns, PurgeStatus } from './types';
import { useLoaded } from './use-loaded';
import { attentionText } from './words';

const NAMES: Record<PurgeKind, string> = { chatRetention: 'Chat retention purge', recordingPurge: 'Recording purge' };
const W = 600;
const H = 160;
const PAD = { left: 40, right: 12, top: 12, bottom: 30 };

const deletedTotal = (run: PurgeRun) => Object.values(run.deleted).reduce((a, b) => a + b, 0);

/** The purge runs of the whole service (the purges are per deployment, not per resource), as charts. */
export function PurgeHistory() {
  const { data, error, reload: load } = useLoaded<PurgeRuns>('/api/management/purgeRuns', []);

  return (
    <section aria-labelledby="runs-heading">
      <h2 id="runs-heading">Purge runs</h2>
      <p class="hint">Every resource’s purges run together: these are the service’s last 20 runs of each.</p>
      <FormError error={error} />
      {data &&
        (['chatRetention', 'recordingPurge'] as const).map((kind) => (
          <PurgeChart key={kind} kind={kind} runs={data.runs[kind] ?? []} missed={data.missed?.[kind] ?? []} status={data.status.find((s) => s.kind === kind)} />
        ))}
      <button type="button" onClick={load}>
        Refresh the runs
      </button>
    </section>
  );
}

function PurgeChart({ kind, runs, missed, status }: { kind: PurgeKind; runs: PurgeRun[]; missed: string[]; status: PurgeStatus | undefined }) {
  const ordered = [...runs].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const times = [...ordered.map((r) => Date.parse(r.startedAt)), ...missed.map((m) => Date.parse(m))];
  const start = Math.min(...times);
  const end = Math.max(...times, Date.now());
  const span = Math.max(end - start, 60_000);
  const max = Math.max(1, ...ordered.map(deletedTotal));
  const x = (t: number) => PAD.left + ((t - start) / span) * (W - PAD.left - PAD.right);
  const y = (n: number) => H - PAD.bottom - (n / max) * (H - PAD.top - PAD.bottom);
  const failed = ordered.filter((r) => r.status === 'failed').length;
  const id = `chart-${kind}`;
  const summary = `${ordered.length} runs, ${failed} failed, ${missed.length} missed; most deleted in one run: ${max === 1 && ordered.every((r) => deletedTotal(r) === 0) ? 0 : max}.`;

  return (
    <div class="purge" data-testid={`purge-${kind}`}>
      <h3>{NAMES[kind]}</h3>
      <p class={status?.attention ? 'attention' : ''} data-testid={`attention-${kind}`}>
        {status?.attention ? '⚠ ' : ''}
        {attentionText(status, missed.length, formatTime)}
      </p>
      {ordered.length === 0 && missed.length === 0 ? (
        <p>No runs yet.</p>
      ) : (
        <>
          <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-title ${id}-desc`}>
            <title id={`${id}-title`}>{NAMES[kind]}: items deleted per run over time</title>
            <desc id={`${id}-desc`}>{summary} The table below lists every run.</desc>
            <line class="axis" x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} />
            <line class="axis" x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} />
            <text class="tick" x={PAD.left - 4} y={PAD.top + 4} text-anchor="end">
              {max}
            </text>
            <text class="tick" x={PAD.left - 4} y={H - PAD.bottom} text-anchor="end">
              0
            </text>
            <text class="tick" x={PAD.left} y={H - 8}>
              {formatTime(new Date(start).toISOString())}
            </text>
            <text class="tick" x={W - PAD.right} y={H - 8} text-anchor="end">
              {formatTime(new Date(end).toISOString())}
            </text>
            {ordered.map((run) => {
              const cx = x(Date.parse(run.startedAt));
              const total = deletedTotal(run);
              return (
                <g key={run.id} class={run.status === 'failed' ? 'run failed' : 'run'}>
                  <rect x={cx - 3} y={y(total)} width="6" height={Math.max(0.5, H - PAD.bottom - y(total))} />
                  {run.status === 'failed' && (
                    <text class="mark" x={cx} y={y(total) - 3} text-anchor="middle">
                      ✕
                    </text>
                  )}
                </g>
              );
            })}
            {missed.map((due) => {
              const cx = x(Date.parse(due));
              return (
                <path key={due} class="missed" d={`M${cx} ${H - PAD.bottom - 8}l4 7h-8z`}>
                  <title>missed: due {formatTime(due)}</title>
                </path>
              );
            })}
          </svg>
          <p class="legend" aria-hidden="true">
            Bars: items deleted per run · ✕ failed run · ▲ a run that was due and did not start
          </p>
          <details>
            <summary>The runs as a table</summary>
            <table>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Status</th>
                  <th scope="col">Planned</th>
                  <th scope="col">Deleted</th>
                  <th scope="col">Kept for holds</th>
                  <th scope="col">Failed items</th>
                </tr>
              </thead>
              <tbody>
                {[...ordered].reverse().map((run) => (
                  <tr key={run.id}>
                    <td>{formatTime(run.startedAt)}</td>
                    <td>
                      {run.status}
                      {run.failure ? `: ${run.failure}` : ''}
                    </td>
                    <td>{run.planned}</td>
                    <td>{deletedTotal(run)}</td>
                    <td>{run.held}</td>
                    <td>{run.failed}</td>
                  </tr>
                ))}
                {missed.map((due) => (
                  <tr key={due}>
                    <td>{formatTime(due)}</td>
                    <td>missed: due, no run started</td>
                    <td colSpan={4}>—</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </details>
        </>
      )}
    </div>
  );
}
