import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

/** The suite restricted to one module's focused test files, for mutation runs (see stryker.config.mjs). */
const files = (process.env.MUTATION_TESTS ?? '').split(',').filter(Boolean);

export default defineConfig({ ...base, test: { ...base.test, include: files.length > 0 ? files : base.test?.include } });
