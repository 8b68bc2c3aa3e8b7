/**
 * The console's only way to the service: the public management API, with `Authorization: Bearer
 * <management key>` when a key was typed in, or the App Service Authentication session cookie in
 * Azure. Errors come back in the ACS shape `{error: {code, message, target}}`; a request that never
 * got an answer is a NetworkError.
 */
const KEY_STORAGE = 'acs-console.management-key';

/** The management key, for this browser tab only (sessionStorage: gone when the tab closes). */
export const storedKey = {
  get(): string | null {
    try {
      return sessionStorage.getItem(KEY_STORAGE);
    } catch {
      return null;
    }
  },
  set(key: string): void {
    sessionStorage.setItem(KEY_STORAGE, key);
  },
  clear(): void {
    sessionStorage.removeItem(KEY_STORAGE);
  },
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly target?: string,
    readonly challenge?: string,
  ) {
    super(message);
  }
}

export class NetworkError extends Error {
  constructor() {
    super('The service could not be reached. Nothing you typed is lost: check the connection and try again.');
  }
}

let onUnauthorized: (() => void) | undefined;
/** Called when a call answers 401 after sign-in (the key was replaced, the session ended). */
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

async function send(method: string, path: string, body: unknown, key: string | null): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  try {
    return await fetch(path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new NetworkError();
  }
}

async function failure(response: Response): Promise<ApiError> {
  let error: { code?: string; message?: string; target?: string } | undefined;
  try {
    error = ((await response.json()) as { error?: typeof error }).error;
  } catch {
    // Not the ACS shape: described by status.
  }
  return new ApiError(
    response.status,
    error?.code ?? 'HttpError',
    error?.message ?? `The service answered ${response.status} ${response.statusText}.`,
    error?.target,
    response.headers.get('www-authenticate') ?? undefined,
  );
}

/** One management API call; `key` overrides the stored key (sign-in). */
export async function api<T>(method: string, path: string, body?: unknown, options: { key?: string | null; quiet401?: boolean } = {}): Promise<ApiAnswer<T>> {
  const response = await send(method, path, body, options.key === undefined ? storedKey.get() : options.key);
  if (!response.ok) {
    const error = await failure(response);
    if (response.status === 401 && !options.quiet401) onUnauthorized?.();
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = response.status === 204 ? undefined : await response.json();
  } catch {
    throw new NetworkError();
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** The path of a resource's management routes. */
export const resourcePath = (name: string, rest = '') => `/api/management/resources/${encodeURIComponent(name)}${rest}`;

/** Downloads what a GET answers as a file (the key cannot go on a plain link). */
export async function downloadFile(path: string, fileName: string): Promise<void> {
  const response = await send('GET', path, undefined, storedKey.get());
  if (!response.ok) throw await failure(response);
  let blob: Blob;
  try {
    blob = await response.blob();
  } catch {
    throw new NetworkError();
  }
  saveBlob(blob, fileName);
}

export function saveJson(data: unknown, fileName: string): void {
  saveBlob(new Blob([`${JSON.stringify(data, null, 2)}\n`], { type: 'application/json' }), fileName);
}

function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A message for any failure, in words. */
export function describe(error: unknown): string {
  if (error instanceof ApiError || error instanceof NetworkError) return error.message;
  return 'Something went wrong in the console; reload the page.';
}
