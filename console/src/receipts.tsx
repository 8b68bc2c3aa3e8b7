import { useRef, useState } from 'preact/hooks';
import { api, resourcePath, saveJson } from './api';
import { Field, fieldErrors, focusFirstInvalid, FormError, formatTime } from './field';
import type { Receipt } from './types';

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

/** Erasure receipts of a resource, newest first; searched by a subject (matched by its keyed hash). */
export function Receipts({ resource }: { resource: string }) {
  const [subject, setSubject] = useState('');
  const [receipts, setReceipts] = useState<Receipt[]>();
  const [error, setError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const form = useRef<HTMLFormElement>(null);

  const search = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    setFormError(undefined);
    try {
      const query = subject.trim() ? `?subject=${encodeURIComponent(subject.trim())}` : '';
      setReceipts((await api<{ value: Receipt[] }>('GET', resourcePath(resource, `/privacy/receipts${query}`))).body.value);
    } catch (failure) {
      const { fields, form: message } = fieldErrors(failure, { subject: 'receipt-subject' });
      setError(fields['receipt-subject']);
      setFormError(message);
      focusFirstInvalid(form.current);
    }
  };

  return (
    <section aria-labelledby="receipts-heading">
      <h2 id="receipts-heading">Erasure receipts</h2>
      <form ref={form} onSubmit={search} noValidate>
        <Field
          id="receipt-subject"
          label="Person (identity id, phone number or e-mail address; empty for all)"
          hint="Receipts keep subjects only as keyed hashes: a receipt is found by presenting the subject."
          value={subject}
          onInput={setSubject}
          error={error}
        />
        <FormError error={formError} />
        <button type="submit">Find receipts</button>
      </form>
      {receipts && receipts.length === 0 && <p role="status">No erasure receipts found.</p>}
      {receipts && receipts.length > 0 && (
        <table data-testid="receipts">
          <caption>{receipts.length === 1 ? '1 receipt' : `${receipts.length} receipts`}</caption>
          <thead>
            <tr>
              <th scope="col">Receipt</th>
              <th scope="col">Completed</th>
              <th scope="col">Deleted</th>
              <th scope="col">Kept for holds</th>
              <th scope="col">
                <span class="visually-hidden">Download</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {receipts.map((r) => (
              <tr key={r.id}>
                <td>
                  <code>{r.id}</code>
                </td>
                <td>{formatTime(r.completedAt)}</td>
                <td>{total(r.deleted)}</td>
                <td>{total(r.held)}</td>
                <td>
                  <button type="button" onClick={() => saveJson(r, `erasure-receipt-${r.id}.json`)}>
                    Download<span class="visually-hidden"> receipt {r.id}</span>
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
