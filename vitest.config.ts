import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.js';

/**
 * Test files that must run in a process of their own: they load other function files into the
 * development host (the deployment package, the dev host's fixtures). Timers' schedules are app
 * settings the host resolves at each start (shared/timer-schedules.ts), so files that set their own
 * share a process with the others.
 */
export const ISOLATED_TEST_FILES = ['test/integration/dev-host.test.ts', 'test/integration/dev-host-queues.test.ts', 'test/integration/deployment-package.test.ts'];

const common = {
  pool: 'forks' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
};

export default defineConfig({
  test: {
    ...common,
    // Each integration file starts its own local stack on free ports. One file more than there are
    // cores: about a third of the files' time is waiting (queue polling and visibility timeouts, child
    // processes, Chromium), which a third file fills. Measured on 2 cores, whole suite, one run each:
    // 2 files at a time 138 s, 3 files 128 s, 4 files 131 s (2026-12-03); runs vary by about 30 s (README).
    maxWorkers: availableParallelism() + 1,
    // The slowest files first, those that mostly wait beside those that compute (test/support/slow-first-sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      // Most files share their worker process with the files before them (no re-import of the app,
      // the SDKs and the emulators per file): each starts and stops its own stack, which restores
      // process.env when it stops.
      { extends: true, test: { name: 'shared', include: ['test/**/*.test.ts'], exclude: ISOLATED_TEST_FILES, isolate: false } },
      { extends: true, test: { name: 'isolated', include: ISOLATED_TEST_FILES, isolate: true } },
    ],
  },
});
