/**
 * A function's handler loaded on its first invocation. The function files register their triggers
 * at import with only this and `@azure/functions`, so importing the app (the cold start) does not load
 * the domain code, zod or the store clients: each function's handler module is imported by its
 * first invocation and kept. A load that fails is tried again by the next invocation.
 */
type AnyHandler = (...args: any[]) => unknown;

export function lazyHandler<M extends Record<K, AnyHandler>, K extends string & keyof M>(load: () => Promise<M>, name: K): M[K] {
  let loaded: Promise<M[K]> | undefined;
  const handler = async (...args: Parameters<M[K]>) => {
    loaded ??= load().then(
      (module) => module[name],
      (error: unknown) => {
        loaded = undefined;
        throw error;
      },
    );
    return (await loaded)(...args);
  };
  return handler as M[K];
}
