import { useEffect, useState } from 'preact/hooks';
import { api, describe } from './api';

/**
 * A management API GET, made when the view mounts and again whenever a dependency changes; `reload`
 * makes it again. A failure is kept as `error` (the API's message, or the network's) and the last
 * data stays shown.
 */
export function useLoaded<T>(path: string, dependencies: unknown[]): { data: T | undefined; error: string | undefined; reload: () => Promise<void> } {
  const [data, setData] = useState<T>();
  const [error, setError] = useState<string>();
  const reload = () =>
    api<T>('GET', path)
      .then(({ body }) => {
        setData(body);
        setError(undefined);
      })
      .catch((failure: unknown) => setError(describe(failure)));
  useEffect(() => {
    void reload();
  }, dependencies);
  return { data, error, reload };
}
