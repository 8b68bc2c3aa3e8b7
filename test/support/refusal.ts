import { ServiceError } from '../../shared/errors/service-error.js';

/** The ServiceError `run` throws; fails the test if it throws something else or nothing. */
export function refusal(run: () => unknown): ServiceError {
  try {
    run();
  } catch (error) {
    if (error instanceof ServiceError) return error;
    throw error;
  }
  throw new Error('accepted');
}
