import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * The suite restricted to one module's focused test files, for mutation runs (see stryker.config.mjs),
 * each file in a process of its own (no projects: Stryker's runner runs one vitest project), in
 * vitest's own order.
 */
const files = (process.env.MUTATION_TESTS ?? '').split(',').filter(Boolean);

export default defineConfig({ ...base, test: { ...base.test, projects: undefined, sequence: undefined, include: files.length > 0 ? files : ['test/**/*.test.ts'], isolate: true } });
