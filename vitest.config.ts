import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.js';

/**
 * The test files whose stacks serve the fixture apps (test/fixtures/) instead of the app. They share
 * a worker process with each other, not with the other files: the fixtures and the app import the same
 * `@azure/functions`, whose setup is once per process (the app enables HTTP streaming before its
 * host first starts; a fixture's host starting first would make that setup throw, and after the app's
 * the fixtures would run streamed). The deployment package carries its own `@azure/functions`, so its
 * file shares a process with the others.
 */
export const FIXTURE_APP_TEST_FILES = ['test/integration/dev-host.test.ts', 'test/integration/dev-host-queues.test.ts'];

export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each integration file starts its own local stack on free ports. One file more than there are
    // cores: about a third of the files' time is waiting (queue polling and visibility timeouts, child
    // processes, Chromium), which a third file fills. Measured on 2 cores, whole suite, one run each:
    // 2 files at a time 138 s, 3 files 128 s, 4 files 131 s (2026-12-03); runs vary by about 30 s (README).
    maxWorkers: availableParallelism() + 1,
    // The slowest files first, those that mostly wait beside those that compute (test/support/slow-first-sequencer.ts).
    sequence: { sequencer: SlowFirstSequencer },
    // Each file shares its worker process with the files before it (no re-import of the app, the
    // SDKs and the emulators per file): each starts and stops its own stack, which restores
    // process.env when it stops, and the function files of each folder a stack serves are imported
    // once per process, each folder's registrations kept apart (local/functions-core-shim.ts).
    isolate: false,
    projects: [
      { extends: true, test: { name: 'app', include: ['test/**/*.test.ts'], exclude: FIXTURE_APP_TEST_FILES } },
      { extends: true, test: { name: 'fixture apps', include: FIXTURE_APP_TEST_FILES } },
    ],
  },
});
