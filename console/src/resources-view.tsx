import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResourceState } from './app';
import { api, resourcePath } from './api';
import { Field, FieldError, fieldErrors, focusFirstInvalid, FormError, formatTime, Notice } from './field';
import { ResourceSettings } from './resource-settings';
import type { Geographies, Geography, Resource } from './types';

/** Resources: the list, creating one (its geography is fixed then), its settings and keys. */
export function ResourcesView({ resources }: { resources: ResourceState }) {
  const [geographies, setGeographies] = useState<Geography[]>();
  const [open, setOpen] = useState<string>();

  useEffect(() => {
    api<Geographies>('GET', '/api/management/geographies')
      .then(({ body }) => setGeographies(body.value))
      .catch(() => setGeographies([]));
  }, []);

  return (
    <>
      <section aria-labelledby="list-heading">
        <h2 id="list-heading">Resources</h2>
        <FormError error={resources.error} />
        {resources.resources && resources.resources.length === 0 && <p>No resources yet.</p>}
        {resources.resources && resources.resources.length > 0 && (
          <table data-testid="resource-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Geography</th>
                <th scope="col">Created</th>
                <th scope="col">Event payloads</th>
                <th scope="col">Retention</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {resources.resources.map((r) => (
                <tr key={r.name}>
                  <th scope="row">{r.name}</th>
                  <td>{r.geography}</td>
                  <td>{formatTime(r.createdAt)}</td>
                  <td>{r.eventPayloads}</td>
                  <td>
                    idle threads {r.retention.idleThreadDays === 0 ? 'kept' : `${r.retention.idleThreadDays} days`}, recordings {r.retention.recordingHours} h, logs {r.retention.logDays} days
                  </td>
                  <td>
                    <button type="button" aria-expanded={open === r.name} onClick={() => setOpen(open === r.name ? undefined : r.name)}>
                      {open === r.name ? 'Close' : 'Settings and keys'}
                      <span class="visually-hidden"> of {r.name}</span>
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {open && resources.resources?.find((r) => r.name === open) && (
          <ResourceSettings key={open} resource={resources.resources.find((r) => r.name === open)!} onSaved={resources.reload} />
        )}
      </section>
      <CreateResource geographies={geographies} onCreated={resources.reload} />
    </>
  );
}

function CreateResource({ geographies, onCreated }: { geographies: Geography[] | undefined; onCreated: () => Promise<void> }) {
  const [name, setName] = useState('');
  const [geography, setGeography] = useState('');
  const [payloads, setPayloads] = useState<'full' | 'minimal'>('full');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setFormError(undefined);
    setDone(undefined);
    try {
      const { status, body } = await api<Resource>('PUT', resourcePath(name.trim()), { geography, eventPayloads: payloads });
      setDone(status === 201 ? `Created ${body.name} in ${body.geography}.` : `${body.name} already exists in ${body.geography}; its settings were updated.`);
      await onCreated();
    } catch (failure) {
      const { fields, form: formMessage } = fieldErrors(failure, { name: 'new-name', geography: 'new-geography', eventPayloads: 'new-payloads' });
      setErrors(fields);
      setFormError(formMessage);
      focusFirstInvalid(form.current);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-heading">
      <h2 id="create-heading">Create a resource</h2>
      <form ref={form} onSubmit={submit} aria-busy={busy} noValidate>
        <Field id="new-name" label="Name" value={name} onInput={setName} error={errors['new-name']} hint="1-63 letters, digits or hyphens; unique regardless of case." />
        <div class={errors['new-geography'] ? 'field invalid' : 'field'}>
          <label for="new-geography">Geography</label>
          <p class="hint" id="new-geography-hint">
            <strong>Fixed at creation:</strong> all of the resource’s data at rest stays in this geography and can never be moved. To use another
            geography, create another resource.
          </p>
          <select
            id="new-geography"
            value={geography}
            aria-describedby={`new-geography-hint${errors['new-geography'] ? ' new-geography-error' : ''}`}
            aria-invalid={errors['new-geography'] ? 'true' : undefined}
            onChange={(event) => setGeography((event.currentTarget as HTMLSelectElement).value)}
          >
            <option value="">Choose a geography</option>
            {(geographies ?? []).map((g) => (
              <option key={g.key} value={g.name} disabled={!g.enabled}>
                {g.name}
                {g.enabled ? '' : ' (not enabled)'}
              </option>
            ))}
          </select>
          <FieldError id="new-geography" error={errors['new-geography']} />
        </div>
        <div class={errors['new-payloads'] ? 'field invalid' : 'field'}>
          <label for="new-payloads">Event payloads</label>
          <select id="new-payloads" value={payloads} onChange={(event) => setPayloads((event.currentTarget as HTMLSelectElement).value as 'full' | 'minimal')}>
            <option value="full">full: events carry message text, topics and names</option>
            <option value="minimal">minimal: events carry ids only (Event Grid may hold them outside the geography)</option>
          </select>
          <FieldError id="new-payloads" error={errors['new-payloads']} />
        </div>
        <FormError error={formError} />
        <button type="submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create resource'}
        </button>
        {done && <Notice>{done}</Notice>}
      </form>
    </section>
  );
}

