import { useEffect, useRef } from 'preact/hooks';
import type { Subjects } from './requests-view';
import type { Resource } from './types';

/**
 * The confirmation of a delete request: a modal <dialog> that names every subject and what will be
 * erased. Focus starts on Cancel (the safe choice); Escape cancels; focus goes back to the submit
 * button when it closes (the caller's part).
 */
export function ConfirmErase({ resource, subjects, onCancel, onConfirm }: { resource: Resource; subjects: Subjects; onCancel: () => void; onConfirm: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
    cancel.current?.focus();
  }, []);
  const all = [...subjects.identityIds.map((s) => `identity ${s}`), ...subjects.phoneNumbers.map((s) => `phone number ${s}`), ...subjects.emails.map((s) => `e-mail address ${s}`)];
  return (
    <dialog
      ref={dialog}
      aria-labelledby="erase-title"
      aria-describedby="erase-what"
      onCancel={(event) => {
        event.preventDefault();
        dialog.current?.close();
        onCancel();
      }}
    >
      <h2 id="erase-title">Erase this person’s data in {resource.name}?</h2>
      <div id="erase-what">
        <p>
          In resource <strong>{resource.name}</strong> ({resource.geography}), for:
        </p>
        {all.length > 0 ? (
          <ul data-testid="erase-subjects">
            {all.map((s) => (
              <li key={s}>
                <code>{s}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p>No subject named (the service will refuse the request).</p>
        )}
        <p>
          The identities’ access tokens are revoked first; then their chat messages, read receipts and participation, the recordings that
          list them, e-mail still being delivered, suppression entries and sender usernames, the identities, log records, phone number and
          SMS records, earlier inventories and exports, and the events naming them are erased. What a legal hold keeps stays. This cannot be
          undone; an erasure receipt records what was deleted.
        </p>
      </div>
      <div class="actions">
        <button
          type="button"
          ref={cancel}
          class="secondary"
          onClick={() => {
            dialog.current?.close();
            onCancel();
          }}
        >
          Cancel
        </button>
        <button
          type="button"
          class="danger"
          onClick={() => {
            dialog.current?.close();
            onConfirm();
          }}
        >
          Erase
        </button>
      </div>
    </dialog>
  );
}
