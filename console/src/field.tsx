import type { ComponentChildren } from 'preact';
import { ApiError, describe } from './api';
import { fieldOf } from './words';

/**
 * A labelled form field with its hint and the API's message for it (the error's `target`), tied
 * together with aria-describedby so a screen reader reads them with the field.
 */
interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  error?: string;
  hint?: string;
  type?: 'text' | 'password';
  rows?: number;
  required?: boolean;
  autoComplete?: string;
  placeholder?: string;
}

export function Field({ id, label, value, onInput, error, hint, type = 'text', rows, required, autoComplete = 'off', placeholder }: FieldProps) {
  const describedBy = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  const common = {
    id,
    name: id,
    value,
    required,
    placeholder,
    autoComplete,
    'aria-invalid': error ? ('true' as const) : undefined,
    'aria-describedby': describedBy,
    onInput: (event: Event) => onInput((event.currentTarget as HTMLInputElement).value),
  };
  return (
    <div class={error ? 'field invalid' : 'field'}>
      <label for={id}>{label}</label>
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {rows ? (
        <textarea rows={rows} spellcheck={false} {...common} />
      ) : type === 'password' ? (
        <input type="password" {...common} />
      ) : (
        <input type="text" spellcheck={false} {...common} />
      )}
      <FieldError id={id} error={error} />
    </div>
  );
}

export function FieldError({ id, error }: { id: string; error?: string | undefined }) {
  return error ? (
    <p class="field-error" id={`${id}-error`}>
      {error}
    </p>
  ) : null;
}

/** An error for the form as a whole (announced: role=alert). */
export function FormError({ error, id }: { error?: string | undefined; id?: string }) {
  return error ? (
    <p class="form-error" role="alert" id={id}>
      {error}
    </p>
  ) : null;
}

export function Notice({ children }: { children: ComponentChildren }) {
  return (
    <p class="notice" role="status">
      {children}
    </p>
  );
}

/**
 * Splits a failure into the field it names and a message: `targets` maps an API target (or its
 * prefix, `subjects.phoneNumbers` for `subjects.phoneNumbers.3`) to a field id; anything else
 * (network, an unnamed field) is the form's error.
 */
export function fieldErrors(error: unknown, targets: Record<string, string>): { fields: Record<string, string>; form?: string } {
  const field = error instanceof ApiError ? fieldOf(error.target, targets) : undefined;
  if (field) return { fields: { [field]: (error as ApiError).message } };
  return { fields: {}, form: describe(error) };
}

/** Moves focus to the first field with an error (after the page re-renders). */
export function focusFirstInvalid(form: HTMLElement | null): void {
  requestAnimationFrame(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
}

export const formatTime = (iso: string | undefined | null) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' }) : '—');
