import { useRef, useState } from 'preact/hooks';
import { api, ApiError, describe, storedKey } from './api';
import { Field, FormError } from './field';
import type { Session } from './types';

/**
 * Sign-in: locally, the management key, kept in sessionStorage (this tab only, until sign-out or
 * the tab closes) and checked against the API before it is kept. In Azure, behind App Service
 * Authentication, the Microsoft Entra ID sign-in page.
 */
export function SignIn({ onSignedIn, entraSignIn }: { onSignedIn: (session: Session) => void; entraSignIn: boolean }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<string>();
  const [formError, setFormError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLFormElement>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    setFormError(undefined);
    try {
      const { body } = await api<Session>('GET', '/api/management/session', undefined, { key: key.trim(), quiet401: true });
      storedKey.set(key.trim());
      onSignedIn(body);
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 401) setError(failure.message);
      else setFormError(describe(failure));
      requestAnimationFrame(() => input.current?.querySelector<HTMLInputElement>('input')?.focus());
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Privacy console</h1>
      <p>Where your customers' data lives, what retention will delete, and data subject requests with their proof.</p>
      <form ref={input} onSubmit={submit} aria-busy={busy}>
        <Field
          id="management-key"
          label="Management key"
          type="password"
          value={key}
          onInput={setKey}
          error={error}
          required
          hint="MANAGEMENT_KEY from local.settings.json. Kept in this browser tab only, until you sign out or close it."
        />
        <FormError error={formError} />
        <button type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {entraSignIn && (
        <p class="entra">
          Or <a href="/.auth/login/aad?post_login_redirect_uri=/console/">sign in with Microsoft Entra ID</a> (App Service Authentication).
        </p>
      )}
    </main>
  );
}
