import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResourceState } from './app';
import { api, describe, resourcePath } from './api';
import { Field, fieldErrors, focusFirstInvalid, FormError, formatTime, Notice } from './field';
import { PurgeHistory } from './purge-history';
import { ResourcePicker } from './resource-picker';
import type { Hold, Preview } from './types';
import { previewSummary } from './words';

/** Retention of one resource: what the next run deletes and what holds keep; the holds; the purge runs. */
export function RetentionView({ resources }: { resources: ResourceState }) {
  const name = resources.selected;
  const [preview, setPreview] = useState<Preview>();
  const [holds, setHolds] = useState<Hold[]>();
  const [error, setError] = useState<string>();

  const load = async () => {
    if (!name) return;
    try {
      const [p, h] = await Promise.all([api<Preview>('GET', resourcePath(name, '/retention/preview')), api<{ value: Hold[] }>('GET', resourcePath(name, '/legalHolds'))]);
      setPreview(p.body);
      setHolds(h.body.value);
      setError(undefined);
    } catch (failure) {
      setError(describe(failure));
    }
  };
  useEffect(() => {
    setPreview(undefined);
    setHolds(undefined);
    void load();
  }, [name]);

  return (
    <>
      <ResourcePicker resources={resources} id="retention-resource" />
      <FormError error={error} />
      {name && (
        <>
          <section aria-labelledby="preview-heading" data-testid="preview">
            <h2 id="preview-heading">What the next chat retention run deletes</h2>
            {preview ? <PreviewPanel preview={preview} /> : !error && <p>Loading the preview…</p>}
            <button type="button" onClick={load}>
              Refresh the preview
            </button>
          </section>
          <section aria-labelledby="holds-heading">
            <h2 id="holds-heading">Legal holds</h2>
            {holds && <HoldList holds={holds} resource={name} onChange={load} />}
            <PlaceHold resource={name} onPlaced={load} />
          </section>
        </>
      )}
      <PurgeHistory />
    </>
  );
}

function PreviewPanel({ preview }: { preview: Preview }) {
  const { chatThreads: threads, keptForLegalHold: kept } = preview;
  return (
    <>
      <p data-testid="preview-summary">{previewSummary(preview)}</p>
      {threads.count > 0 && (
        <table>
          <caption>Due threads{threads.listedAll ? '' : ` (the first ${threads.due.length})`}</caption>
          <thead>
            <tr>
              <th scope="col">Thread</th>
              <th scope="col">Why</th>
              <th scope="col">Last activity</th>
            </tr>
          </thead>
          <tbody>
            {threads.due.map((t) => (
              <tr key={t.threadId}>
                <td>
                  <code>{t.threadId}</code>
                </td>
                <td>{t.reason === 'idle' ? 'idle' : 'past its retention policy'}</td>
                <td>{formatTime(t.lastActivityAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {kept.count > 0 && (
        <table data-testid="kept">
          <caption>Kept for a legal hold</caption>
          <thead>
            <tr>
              <th scope="col">Item</th>
              <th scope="col">Kept by holds</th>
            </tr>
          </thead>
          <tbody>
            {kept.items.map((item) => (
              <tr key={item.subjectId}>
                <td>
                  {item.subjectType === 'chatThread' ? 'thread' : 'recording'} <code>{item.subjectId}</code>
                </td>
                <td>{item.holdIds.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

function HoldList({ holds, resource, onChange }: { holds: Hold[]; resource: string; onChange: () => Promise<void> }) {
  const [releasing, setReleasing] = useState<string>();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  if (holds.length === 0) return <p>No legal holds.</p>;
  const release = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', resourcePath(resource, `/legalHolds/${encodeURIComponent(releasing!)}/release`), reason.trim() ? { reason } : {});
      setReleasing(undefined);
      setReason('');
      setError(undefined);
      await onChange();
    } catch (failure) {
      setError(describe(failure));
    }
  };
  return (
    <table data-testid="holds">
      <thead>
        <tr>
          <th scope="col">Holds</th>
          <th scope="col">Reason</th>
          <th scope="col">Placed</th>
          <th scope="col">State</th>
        </tr>
      </thead>
      <tbody>
        {holds.map((h) => (
          <tr key={h.id}>
            <td>
              {h.target.kind === 'thread' ? 'thread' : 'identity'} <code>{h.target.kind === 'thread' ? h.target.threadId : h.target.identityId}</code>
              <br />
              <small>hold {h.id}</small>
            </td>
            <td>{h.reason}</td>
            <td>{formatTime(h.placedAt)}</td>
            <td>
              {h.releasedAt ? (
                `released ${formatTime(h.releasedAt)}${h.releaseReason ? `: ${h.releaseReason}` : ''}`
              ) : releasing === h.id ? (
                <form onSubmit={release} class="inline">
                  <Field id="release-reason" label="Why release it (optional)" value={reason} onInput={setReason} />
                  <FormError error={error} />
                  <button type="submit">Release the hold</button>
                  <button type="button" class="secondary" onClick={() => setReleasing(undefined)}>
                    Cancel
                  </button>
                </form>
              ) : (
                <>
                  in force{' '}
                  <button type="button" onClick={() => setReleasing(h.id)}>
                    Release<span class="visually-hidden"> hold {h.id}</span>
                  </button>
                </>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function PlaceHold({ resource, onPlaced }: { resource: string; onPlaced: () => Promise<void> }) {
  const [kind, setKind] = useState<'thread' | 'identity'>('thread');
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [done, setDone] = useState<string>();
  const form = useRef<HTMLFormElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setErrors({});
    setFormError(undefined);
    setDone(undefined);
    try {
      const body = { target: kind === 'thread' ? { kind, threadId: target.trim() } : { kind, identityId: target.trim() }, reason };
      const { body: hold } = await api<Hold>('POST', resourcePath(resource, '/legalHolds'), body);
      setDone(`Placed hold ${hold.id}.`);
      setTarget('');
      setReason('');
      await onPlaced();
    } catch (failure) {
      const { fields, form: message } = fieldErrors(failure, { 'target.threadId': 'hold-target', 'target.identityId': 'hold-target', 'target.kind': 'hold-kind', target: 'hold-target', reason: 'hold-reason' });
      setErrors(fields);
      setFormError(message);
      focusFirstInvalid(form.current);
    }
  };

  return (
    <form ref={form} onSubmit={submit} noValidate class="place-hold">
      <h3>Place a legal hold</h3>
      <div class="field">
        <label for="hold-kind">Hold</label>
        <select id="hold-kind" value={kind} onChange={(event) => setKind((event.currentTarget as HTMLSelectElement).value as 'thread' | 'identity')}>
          <option value="thread">a chat thread (its messages, receipts and participants)</option>
          <option value="identity">an identity (every thread it is or was in, every recording that lists it)</option>
        </select>
      </div>
      <Field
        id="hold-target"
        label={kind === 'thread' ? 'Thread id' : 'Identity id'}
        placeholder={kind === 'thread' ? '19:…@thread.v2' : '8:acs:…'}
        value={target}
        onInput={setTarget}
        error={errors['hold-target']}
      />
      <Field id="hold-reason" label="Reason" hint="Recorded with the hold, e.g. the case number." value={reason} onInput={setReason} error={errors['hold-reason']} />
      <FormError error={formError} />
      <button type="submit">Place the hold</button>
      {done && <Notice>{done}</Notice>}
    </form>
  );
}
