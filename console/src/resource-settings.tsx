import { useRef, useState } from 'preact/hooks';
import { api, describe, resourcePath } from './api';
import { Field, FieldError, fieldErrors, focusFirstInvalid, FormError, Notice } from './field';
import type { Resource } from './types';

/** One resource's settings (retention, event payloads) and its keys, shown only when asked for. */
export function ResourceSettings({ resource, onSaved }: { resource: Resource; onSaved: () => Promise<void> }) {
  const [payloads, setPayloads] = useState(resource.eventPayloads);
  const [idle, setIdle] = useState(String(resource.retention.idleThreadDays));
  const [recording, setRecording] = useState(String(resource.retention.recordingHours));
  const [logs, setLogs] = useState(String(resource.retention.logDays));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [formError, setFormError] = useState<string>();
  const [saved, setSaved] = useState<string>();
  const [keys, setKeys] = useState<Resource>();
  const [keysError, setKeysError] = useState<string>();
  const form = useRef<HTMLFormElement>(null);

  // A number where one was typed, the text as typed otherwise: the API says what is wrong with it.
  const number = (value: string): number | string => (/^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value);

  const save = async (event: Event) => {
    event.preventDefault();
    setErrors({});
    setFormError(undefined);
    setSaved(undefined);
    try {
      await api<Resource>('PUT', resourcePath(resource.name), {
        geography: resource.geography,
        eventPayloads: payloads,
        retention: { idleThreadDays: number(idle), recordingHours: number(recording), logDays: number(logs) },
      });
      setSaved(`Saved the settings of ${resource.name}.`);
      await onSaved();
    } catch (failure) {
      const { fields, form: message } = fieldErrors(failure, {
        'retention.idleThreadDays': 'set-idle',
        'retention.recordingHours': 'set-recording',
        'retention.logDays': 'set-logs',
        eventPayloads: 'set-payloads',
      });
      setErrors(fields);
      setFormError(message);
      focusFirstInvalid(form.current);
    }
  };

  const toggleKeys = async () => {
    if (keys) return setKeys(undefined);
    setKeysError(undefined);
    try {
      setKeys((await api<Resource>('GET', resourcePath(resource.name))).body);
    } catch (failure) {
      setKeysError(describe(failure));
    }
  };

  return (
    <div class="panel" data-testid="resource-settings">
      <h3>{resource.name}</h3>
      <p>
        Geography <strong>{resource.geography}</strong> (regions {resource.regions.join(', ')}), fixed at creation. Endpoint <code>{resource.endpoint}</code>
      </p>
      <form ref={form} onSubmit={save} noValidate>
        <div class="field">
          <label for="set-payloads">Event payloads</label>
          <select id="set-payloads" value={payloads} onChange={(event) => setPayloads((event.currentTarget as HTMLSelectElement).value as Resource['eventPayloads'])}>
            <option value="full">full</option>
            <option value="minimal">minimal (ids only)</option>
          </select>
          <FieldError id="set-payloads" error={errors['set-payloads']} />
        </div>
        <Field id="set-idle" label="Delete chat threads idle for (days)" hint="0 keeps threads until they are deleted; up to 3650." value={idle} onInput={setIdle} error={errors['set-idle']} />
        <Field id="set-recording" label="Keep call recordings for (hours)" hint="1 to 48." value={recording} onInput={setRecording} error={errors['set-recording']} />
        <Field id="set-logs" label="Keep operation logs for (days)" hint="1 to 3650." value={logs} onInput={setLogs} error={errors['set-logs']} />
        <FormError error={formError} />
        <button type="submit">Save settings</button>
        {saved && <Notice>{saved}</Notice>}
      </form>
      <h4>Keys</h4>
      <p>The keys sign every data-plane request of this resource. They are shown only when you ask, and not kept by the console.</p>
      <button type="button" aria-expanded={Boolean(keys)} onClick={toggleKeys}>
        {keys ? 'Hide keys' : 'Show keys'}
      </button>
      <FormError error={keysError} />
      {keys && (
        <dl class="keys" data-testid="keys">
          <dt>Primary key</dt>
          <dd>
            <code>{keys.primaryKey}</code>
          </dd>
          <dt>Secondary key</dt>
          <dd>
            <code>{keys.secondaryKey}</code>
          </dd>
          <dt>Connection string</dt>
          <dd>
            <code>{keys.connectionString}</code>
          </dd>
        </dl>
      )}
    </div>
  );
}
