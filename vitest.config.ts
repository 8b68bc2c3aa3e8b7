import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';
import { SlowFirstSequencer } from './test/support/slow-first-sequencer.js';

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
    // Every file shares its worker process with the files before it (no re-import of the app, the
    // SDKs and the emulators per file): each starts and stops its own stack, which restores
    // process.env when it stops, and the function files of each folder a stack serves (the app, the
    // deployment package, the test fixtures' apps) are imported once per process, each folder's
    // registrations kept apart (local/functions-core-shim.ts).
    include: ['test/**/*.test.ts'],
    isolate: false,
  },
});
