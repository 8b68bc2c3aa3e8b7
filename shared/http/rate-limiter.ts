import { ServiceError } from '../errors/service-error.js';

/**
 * Per-key fixed-window rate limiting (per instance of the app). A refused call gets 429 with
 * Retry-After, the way ACS answers its own throttling.
 */
export class RateLimiter {
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(private readonly now: () => number) {}

  /** Counts one call; past `limit` in the window, a 429 (`refusal` gives the error's code and message). */
  take(key: string, limit: number, windowMs: number, refusal?: () => ServiceError): void {
    const now = this.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= windowMs) {
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
      if (this.#windows.size > 10_000) this.#prune(now, windowMs);
    }
    if (window.count >= limit) {
      const retryAfter = Math.max(1, Math.ceil((window.start + windowMs - now) / 1000));
      const refused = refusal?.() ?? new ServiceError('TooManyRequests', `Too many requests: at most ${limit} per ${windowMs / 1000} s. Retry after ${retryAfter} s.`);
      throw new ServiceError(refused.code, refused.message, { target: refused.target, headers: { ...refused.headers, 'retry-after': String(retryAfter) } });
    }
    window.count += 1;
  }

  #prune(now: number, windowMs: number): void {
    for (const [key, window] of this.#windows) if (now - window.start >= windowMs) this.#windows.delete(key);
  }
}
