import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Each integration file starts its own local stack on free ports; two cores run two at a time.
    maxWorkers: 2,
  },
});
