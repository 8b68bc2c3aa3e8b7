import { ServiceError } from '../errors/service-error.js';
import type { Logger } from '../telemetry/logger.js';

/**
 * Whether the declared stores exist (STORE_PROVISIONING=verify): checked once at app start, in the
 * background; the first request waits for that check. While stores are missing every request is
 * answered 503 (instead of failing half-way on a missing container) and the check runs again at most
 * once per `recheckMs`, so the app recovers by itself once the infrastructure is deployed. With
 * provisioning (emulators) it is always ready.
 */
export class StoreReadiness {
  #missing: string[] = [];
  #checkedAt = Number.NEGATIVE_INFINITY;
  #running?: Promise<string[]>;

  constructor(
    private readonly deps: {
      enabled: boolean;
      check: () => Promise<string[]>;
      logger: Logger;
      now: () => number;
      recheckMs: number;
    },
  ) {}

  /** Runs the check now (app start); logs exactly what is missing. Resolves with the problems found. */
  check(): Promise<string[]> {
    if (!this.deps.enabled) return Promise.resolve([]);
    this.#running ??= this.deps
      .check()
      .then((missing) => {
        this.#missing = missing;
        // One line per problem: each names the account, database, container or index to declare.
        for (const problem of missing) this.deps.logger.error('stores.missing', { count: missing.length, detail: problem });
        if (missing.length === 0) this.deps.logger.info('stores.ready', {});
        return missing;
      })
      .finally(() => {
        this.#checkedAt = this.deps.now();
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Resolves when the stores are there; throws a 503 ServiceError while some are missing. */
  async ready(): Promise<void> {
    if (!this.deps.enabled) return;
    const neverChecked = this.#checkedAt === Number.NEGATIVE_INFINITY;
    if (neverChecked || (this.#missing.length > 0 && this.deps.now() - this.#checkedAt >= this.deps.recheckMs)) await this.check();
    if (this.#missing.length > 0) {
      throw new ServiceError('ServiceUnavailable', 'The service is not ready: some of its stores do not exist yet (the service log names them).');
    }
  }
}
