import { useEffect, useRef, useState } from 'preact/hooks';
import type { ResourceState } from './app';
import { api, describe, resourcePath } from './api';
import { ConfirmErase } from './confirm-erase';
import { Field, FieldError, fieldErrors, focusFirstInvalid, FormError, formatTime } from './field';
import { Receipts } from './receipts';
import { RequestProgress } from './request-progress';
import { ResourcePicker } from './resource-picker';
import type { Action, PrivacyRequest } from './types';

const ACTIONS: { value: Action; label: string; what: string }[] = [
  { value: 'inventory', label: 'Inventory', what: 'list everything stored about the person, by store and kind' },
  { value: 'export', label: 'Export', what: 'a bundle of the person’s own data, to hand over' },
  { value: 'delete', label: 'Delete', what: 'erase the person’s data, with an erasure receipt as proof' },
];

/** One subject per line (commas work too). */
const lines = (text: string) =>
  text
    .split(/[\n,]+/)
    .map((s) => s.trim())
    .filter(Boolean);

export interface Subjects {
  identityIds: string[];
  phoneNumbers: string[];
  emails: string[];
}

/** Data subject requests of one resource: submit, watch, download; the receipts. */
export function RequestsView({ resources }: { resources: ResourceState }) {
  const name = resources.selected;
  const resource = resources.resources?.find((r) => r.name === name);
  const [action, setAction] = useState<Action>('inventory');
  const [identities, setIdentities] = useState('');
  const [phones, setPhones] = useState('');
  const [emails, setEmails] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [confirming, setConfirming] = useState<Subjects>();
  const [watching, setWatching] = useState<string>();
  const [recent, setRecent] = useState<PrivacyRequest[]>();
  const [listError, setListError] = useState<string>();
  const form = useRef<HTMLFormElement>(null);
  const submitButton = useRef<HTMLButtonElement>(null);

  const loadRecent = () =>
    name
      ? api<{ value: PrivacyRequest[] }>('GET', resourcePath(name, '/privacy/requests?maxPageSize=20'))
          .then(({ body }) => {
            setRecent(body.value);
            setListError(undefined);
          })
          .catch((failure: unknown) => setListError(describe(failure)))
      : Promise.resolve();
  useEffect(() => {
    setWatching(undefined);
    setRecent(undefined);
    void loadRecent();
  }, [name]);

  const subjects = (): Subjects => ({ identityIds: lines(identities), phoneNumbers: lines(phones), emails: lines(emails) });

  const send = async (chosen: Subjects) => {
    setErrors({});
    setFormError(undefined);
    try {
      const { body } = await api<PrivacyRequest>('POST', resourcePath(name, '/privacy/requests'), { action, subjects: chosen });
      setWatching(body.id);
      void loadRecent();
    } catch (failure) {
      const { fields, form: message } = fieldErrors(failure, {
        'subjects.identityIds': 'dsr-identities',
        'subjects.phoneNumbers': 'dsr-phones',
        'subjects.emails': 'dsr-emails',
        subjects: 'dsr-subjects',
        action: 'dsr-action',
      });
      setErrors(fields);
      setFormError(message);
      if (fields['dsr-subjects'] || fields['dsr-action']) requestAnimationFrame(() => form.current?.querySelector<HTMLElement>('fieldset[aria-invalid="true"] input')?.focus());
      else focusFirstInvalid(form.current);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    if (action === 'delete') setConfirming(subjects());
    else void send(subjects());
  };

  return (
    <>
      <ResourcePicker resources={resources} id="requests-resource" />
      {resource && (
        <>
          <section aria-labelledby="submit-heading">
            <h2 id="submit-heading">New request</h2>
            <form ref={form} onSubmit={submit} noValidate>
              <fieldset aria-invalid={errors['dsr-action'] ? 'true' : undefined} aria-describedby={errors['dsr-action'] ? 'dsr-action-error' : undefined}>
                <legend>Action</legend>
                {ACTIONS.map((a) => (
                  <label key={a.value} class="choice">
                    <input type="radio" name="dsr-action" value={a.value} checked={action === a.value} onChange={() => setAction(a.value)} />
                    <strong>{a.label}</strong>: {a.what}
                  </label>
                ))}
                <FieldError id="dsr-action" error={errors['dsr-action']} />
              </fieldset>
              <fieldset aria-invalid={errors['dsr-subjects'] ? 'true' : undefined} aria-describedby={errors['dsr-subjects'] ? 'dsr-subjects-error' : 'dsr-subjects-hint'}>
                <legend>The person (one per line; at least one)</legend>
                <p class="hint" id="dsr-subjects-hint">
                  Every identity, phone number and e-mail address of one human user, up to 100 of each.
                </p>
                <Field id="dsr-identities" label="Identity ids" placeholder="8:acs:…" rows={3} value={identities} onInput={setIdentities} error={errors['dsr-identities']} />
                <Field id="dsr-phones" label="Phone numbers (E.164)" placeholder="+14255550123" rows={2} value={phones} onInput={setPhones} error={errors['dsr-phones']} />
                <Field id="dsr-emails" label="E-mail addresses" rows={2} value={emails} onInput={setEmails} error={errors['dsr-emails']} />
                <FieldError id="dsr-subjects" error={errors['dsr-subjects']} />
              </fieldset>
              <FormError error={formError} />
              <button type="submit" ref={submitButton}>
                Submit {action} request
              </button>
            </form>
          </section>
          {confirming && (
            <ConfirmErase
              resource={resource}
              subjects={confirming}
              onCancel={() => {
                setConfirming(undefined);
                submitButton.current?.focus();
              }}
              onConfirm={() => {
                const chosen = confirming;
                setConfirming(undefined);
                submitButton.current?.focus();
                void send(chosen);
              }}
            />
          )}
          {watching && <RequestProgress key={watching} resource={name} requestId={watching} onFinished={loadRecent} />}
          <section aria-labelledby="recent-heading">
            <h2 id="recent-heading">Recent requests</h2>
            <FormError error={listError} />
            {recent && recent.length === 0 && <p>No requests yet.</p>}
            {recent && recent.length > 0 && (
              <table data-testid="recent-requests">
                <thead>
                  <tr>
                    <th scope="col">Request</th>
                    <th scope="col">Action</th>
                    <th scope="col">Status</th>
                    <th scope="col">Submitted</th>
                    <th scope="col">Subjects</th>
                    <th scope="col">
                      <span class="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {recent.map((r) => (
                    <tr key={r.id}>
                      <td>
                        <code>{r.id}</code>
                      </td>
                      <td>{r.action}</td>
                      <td>{r.status}</td>
                      <td>{formatTime(r.createdDateTime)}</td>
                      <td>{r.subjects.count}</td>
                      <td>
                        <button type="button" onClick={() => setWatching(r.id)}>
                          Show<span class="visually-hidden"> request {r.id}</span>
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <button type="button" onClick={loadRecent}>
              Refresh the list
            </button>
          </section>
          <Receipts resource={name} />
        </>
      )}
    </>
  );
}
