import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, storedKey, whenUnauthorized } from './api';
import { MapView } from './map-view';
import { RequestsView } from './requests-view';
import { ResourcesView } from './resources-view';
import { RetentionView } from './retention-view';
import { SignIn } from './sign-in';
import type { Resource, Session } from './types';

const VIEWS = [
  { id: 'map', label: 'Where data lives' },
  { id: 'resources', label: 'Resources' },
  { id: 'retention', label: 'Retention' },
  { id: 'requests', label: 'Data subject requests' },
] as const;
type ViewId = (typeof VIEWS)[number]['id'];

const viewFromHash = (): ViewId => {
  const id = location.hash.replace(/^#/, '');
  return VIEWS.some((v) => v.id === id) ? (id as ViewId) : 'map';
};

/** Shared by the views: the resources, and the one chosen for retention and requests. */
export interface ResourceState {
  resources: Resource[] | undefined;
  selected: string;
  select(name: string): void;
  reload(): Promise<void>;
  error?: string;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [entraSignIn, setEntraSignIn] = useState(false);
  const [view, setView] = useState<ViewId>(viewFromHash);
  const [resources, setResources] = useState<Resource[]>();
  const [resourcesError, setResourcesError] = useState<string>();
  const [selected, setSelected] = useState('');
  const heading = useRef<HTMLHeadingElement>(null);
  const firstRender = useRef(true);

  // Who we are: the stored key, or an App Service Authentication session (no key at all).
  useEffect(() => {
    whenUnauthorized(() => {
      storedKey.clear();
      setSession(null);
    });
    api<Session>('GET', '/api/management/session', undefined, { quiet401: true })
      .then(({ body }) => setSession(body))
      .catch((error: unknown) => {
        if (error instanceof ApiError && error.status === 401) storedKey.clear();
        setEntraSignIn(error instanceof ApiError && (error.challenge ?? '').includes('AppServiceAuthentication'));
        setSession(null);
      });
    const onHash = () => setView(viewFromHash());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);

  const reload = useCallback(async () => {
    try {
      const { body } = await api<{ value: Resource[] }>('GET', '/api/management/resources');
      setResources(body.value);
      setResourcesError(undefined);
      setSelected((current) => (current && body.value.some((r) => r.name === current) ? current : (body.value[0]?.name ?? '')));
    } catch (error) {
      setResourcesError(error instanceof Error ? error.message : 'The resources could not be read.');
    }
  }, []);

  useEffect(() => {
    if (session) void reload();
  }, [session, reload]);

  // A new view: its heading takes focus, so keyboard and screen reader users start there.
  useEffect(() => {
    if (firstRender.current) {
      firstRender.current = false;
      return;
    }
    heading.current?.focus();
  }, [view]);

  if (session === undefined) return <p class="loading">Loading the privacy console…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} entraSignIn={entraSignIn} />;

  const signOut = () => {
    storedKey.clear();
    setSession(null);
    if (session.authenticatedBy === 'principal') location.href = '/.auth/logout?post_logout_redirect_uri=/console/';
  };
  const state: ResourceState = { resources, selected, select: setSelected, reload, ...(resourcesError ? { error: resourcesError } : {}) };
  const current = VIEWS.find((v) => v.id === view)!;

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <p class="brand">Privacy console</p>
        <nav aria-label="Views">
          <ul>
            {VIEWS.map((v) => (
              <li key={v.id}>
                <a href={`#${v.id}`} aria-current={v.id === view ? 'page' : undefined}>
                  {v.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <p class="who">
          {session.authenticatedBy === 'principal' ? `Signed in as ${session.principal?.name ?? session.principal?.objectId}` : 'Signed in with the management key'}
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        <h1 ref={heading} tabIndex={-1}>
          {current.label}
        </h1>
        {view === 'map' && <MapView resources={state} />}
        {view === 'resources' && <ResourcesView resources={state} />}
        {view === 'retention' && <RetentionView resources={state} />}
        {view === 'requests' && <RequestsView resources={state} />}
      </main>
    </>
  );
}
