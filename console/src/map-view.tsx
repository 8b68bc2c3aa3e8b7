import { useState } from 'preact/hooks';
import type { ResourceState } from './app';
import { api, describe } from './api';
import { FormError, formatTime } from './field';
import type { AuditReport, Geographies, Geography, Verdict } from './types';
import { useLoaded } from './use-loaded';
import { WorldMap } from './world-map';
import { AUDIT_WORDS, geographyVerdict, resourcesWord } from './words';

const VERDICT_TEXT: Record<Verdict, string> = {
  ok: 'Every item sits in its resource’s geography, and every account is verified in its geography’s regions.',
  problemsFound: 'Problems found: an item outside its resource’s geography, or an account outside (or shared beyond) its geography’s regions.',
  notVerified: 'Nothing out of place was found, but not everything could be proven: some account locations could not be read (see each geography).',
};

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const ACCOUNT_WORDS = { ok: 'in its regions', wrongLocation: 'outside its regions', shared: 'shared with another geography', notVerified: 'not verified' } as const;

/** Where data lives: the map, each geography's resources and last audit, and running the audit. */
export function MapView({ resources }: { resources: ResourceState }) {
  const { data, error, reload: load } = useLoaded<Geographies>('/api/management/geographies', [resources.resources]);
  const [selected, setSelected] = useState<string>();
  const [audit, setAudit] = useState<AuditReport>();
  const [auditing, setAuditing] = useState(false);
  const [auditError, setAuditError] = useState<string>();

  const runAudit = async () => {
    setAuditing(true);
    setAuditError(undefined);
    try {
      setAudit((await api<AuditReport>('POST', '/api/management/residency/audit')).body);
      await load();
    } catch (failure) {
      setAuditError(describe(failure));
    } finally {
      setAuditing(false);
    }
  };

  const chosen = data?.value.find((g) => g.key === selected);
  return (
    <>
      <FormError error={error} />
      <section aria-labelledby="map-heading" class="map-section">
        <h2 id="map-heading">The 16 geographies</h2>
        <p class="hint">
          Filled labels are enabled geographies; each label shows the number of resources, and ✓ (audit ok), ✗ (problems found) or ? (not everything verified) after an audit.
        </p>
        {data ? <WorldMap geographies={data.value} selected={selected} onSelect={setSelected} /> : !error && <p>Loading the map…</p>}
        {chosen && <GeographyDetails geography={chosen} resources={resources} />}
      </section>

      <section aria-labelledby="audit-heading">
        <h2 id="audit-heading">Residency audit</h2>
        <p>
          {data?.lastAudit
            ? `Last audit finished ${formatTime(data.lastAudit.finishedAt)}: ${data.lastAudit.verdict}, ${data.lastAudit.checked} items checked, ${data.lastAudit.misplacedCount} misplaced.`
            : 'No audit has run yet.'}
        </p>
        <button type="button" onClick={runAudit} disabled={auditing} aria-busy={auditing}>
          {auditing ? 'Auditing every geography…' : 'Run the residency audit'}
        </button>
        <FormError error={auditError} />
        {audit && <AuditResult report={audit} />}
      </section>

      {data && (
        <section aria-labelledby="table-heading">
          <h2 id="table-heading">Geographies as a table</h2>
          <table>
            <thead>
              <tr>
                <th scope="col">Geography</th>
                <th scope="col">Enabled</th>
                <th scope="col">Resources</th>
                <th scope="col">Last audit</th>
              </tr>
            </thead>
            <tbody>
              {data.value.map((g) => {
                const verdict = geographyVerdict(g);
                return (
                  <tr key={g.key}>
                    <th scope="row">{g.name}</th>
                    <td>{g.enabled ? 'yes' : 'no'}</td>
                    <td>{g.resourceCount}</td>
                    <td>{verdict ? `${AUDIT_WORDS[verdict].symbol} ${verdict}: ${g.audit!.cosmosItems} items, ${g.audit!.blobs} blobs, ${g.audit!.misplacedCount} misplaced` : '—'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </section>
      )}
    </>
  );
}

function GeographyDetails({ geography: g, resources }: { geography: Geography; resources: ResourceState }) {
  const here = (resources.resources ?? []).filter((r) => r.geography === g.name);
  return (
    <div class="details" aria-live="polite" data-testid="geography-details">
      <h3>{g.name}</h3>
      <p>
        {g.enabled ? 'Enabled' : 'Not enabled in this deployment'} · Azure regions {g.regions.join(', ')} · {resourcesWord(g.resourceCount)}
        {here.length > 0 && `: ${here.map((r) => r.name).join(', ')}`}
      </p>
      {g.audit ? (
        <>
          <p>
            Last audit: {plural(g.audit.cosmosItems, 'item')} and {plural(g.audit.blobs, 'blob')} checked, {g.audit.misplacedCount} misplaced.
            {g.audit.scanError && ` The stores could not be read: ${g.audit.scanError}.`}
          </p>
          <ul>
            {(['cosmos', 'storage', 'topic'] as const).map((account) => (
              <li key={account}>
                {account === 'cosmos' ? 'Cosmos DB account' : account === 'storage' ? 'Storage account' : 'Event Grid topic'}: {ACCOUNT_WORDS[g.audit!.accounts[account].status]} ({g.audit!.accounts[account].detail})
              </li>
            ))}
          </ul>
        </>
      ) : (
        <p>Not audited yet.</p>
      )}
    </div>
  );
}

function AuditResult({ report }: { report: AuditReport }) {
  return (
    <div class="audit-result" data-testid="audit-result">
      <p role="status">
        <strong>
          {AUDIT_WORDS[report.verdict].symbol} Verdict: {report.verdict}.
        </strong>{' '}
        {VERDICT_TEXT[report.verdict]} {report.checked} items checked.
      </p>
      {report.misplaced.length === 0 ? (
        <p>No misplaced items.</p>
      ) : (
        <table>
          <caption>{report.misplacedCount} misplaced items</caption>
          <thead>
            <tr>
              <th scope="col">Store</th>
              <th scope="col">Found in</th>
              <th scope="col">Where</th>
              <th scope="col">Item</th>
              <th scope="col">Its resource’s geography</th>
            </tr>
          </thead>
          <tbody>
            {report.misplaced.map((m) => (
              <tr key={`${m.location}/${m.id}`}>
                <td>{m.store}</td>
                <td>{m.foundIn}</td>
                <td>{m.location}</td>
                <td>{m.id}</td>
                <td>{m.resourceGeography ?? 'no such resource'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
