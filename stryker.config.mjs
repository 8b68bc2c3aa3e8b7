import process from 'node:process';

// Mutation testing of the domain modules (shared/) with Stryker and the real suite (`npm run mutation`).
// Not part of CI: on 2 cores the whole of shared/ against the whole suite takes days, because nearly
// every integration test starts a local stack. So a run names one module (MUTATION_MODULE, below): its
// files are mutated and only its focused test files run, which takes minutes to hours. A mutant that
// only an unrelated test would kill counts as survived, so a module's score is a lower bound.
// Incremental: a rerun tests only mutants whose code or tests changed (reports/mutation/*.incremental.json).
const MODULES = {
  auth: { mutate: ['shared/auth/**/*.ts'], tests: ['test/unit/auth-boundaries.test.ts', 'test/unit/management-caller.test.ts', 'test/unit/console-logic.test.ts', 'test/unit/hmac-auth.test.ts', 'test/integration/hmac-auth.test.ts', 'test/integration/management-api.test.ts'] },
  residency: { mutate: ['shared/residency/**/*.ts'], tests: ['test/integration/residency-audit.test.ts', 'test/integration/audit-summary.test.ts', 'test/integration/residency-accounts.test.ts', 'test/integration/residency-every-kind.test.ts', 'test/local/cosmos-locations.test.ts'] },
  retention: {
    mutate: ['shared/retention/**/*.ts'],
    tests: [
      'test/integration/chat-retention.test.ts',
      'test/integration/recording-purge.test.ts',
      'test/integration/retention-boundaries.test.ts',
      'test/integration/retention-proofs.test.ts',
      'test/unit/run-scoped-cache.test.ts',
      'test/integration/purge-runs.test.ts',
      'test/integration/thread-retention.test.ts',
    ],
  },
  privacy: {
    mutate: ['shared/privacy/**/*.ts'],
    tests: [
      'test/unit/privacy-logic.test.ts',
      'test/unit/privacy-http.test.ts',
      'test/integration/request-runner.test.ts',
      'test/integration/privacy-service.test.ts',
      'test/integration/privacy-sources.test.ts',
      'test/unit/keyed-walk.test.ts',
      'test/integration/privacy-requests.test.ts',
      'test/integration/privacy-restart.test.ts',
      'test/integration/privacy-worker.test.ts',
      'test/integration/items-naming.test.ts',
      'test/integration/console-api.test.ts',
      'test/integration/retention-boundaries.test.ts',
    ],
  },
  identity: {
    mutate: ['shared/identity/**/*.ts'],
    tests: ['test/unit/token-scopes.test.ts', 'test/unit/identity-id.test.ts', 'test/integration/identity-service.test.ts', 'test/integration/teams-token-exchange.test.ts', 'test/unit/in-flight-requests.test.ts', 'test/integration/identity-store.test.ts', 'test/integration/token-key-ring.test.ts', 'test/integration/access-tokens.test.ts', 'test/integration/token-and-scope-proofs.test.ts', 'test/compat/identity-sdk.test.ts', 'test/integration/identity-rate-limits.test.ts'],
  },
};

const name = process.env.MUTATION_MODULE;
const module = name ? MODULES[name] : undefined;
if (name && !module) throw new Error(`MUTATION_MODULE must be one of ${Object.keys(MODULES).join(', ')}`);
// Read by vitest.mutation.config.ts in the test runner processes, which inherit the environment.
// MUTATION_EXTRA_TESTS (comma-separated) adds test files, for a part that other tests cover too.
// MUTATION_ONLY_TESTS (comma-separated) runs those instead, for a fast first pass whose survivors are
// then replayed against all of the module's tests (npm run mutation:replay).
const only = process.env.MUTATION_ONLY_TESTS?.split(',').filter(Boolean);
if (module) process.env.MUTATION_TESTS = (only?.length ? only : [...module.tests, ...(process.env.MUTATION_EXTRA_TESTS?.split(',').filter(Boolean) ?? [])]).join(',');
// MUTATION_FILES (comma-separated globs within the module) mutates part of a module, reported apart
// (reports/mutation/<module>-<part>.json with MUTATION_PART), so a long module can run in pieces.
const files = process.env.MUTATION_FILES?.split(',').filter(Boolean);
const report = name ? (process.env.MUTATION_PART ? `${name}-${process.env.MUTATION_PART}` : name) : 'all';

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: module ? 'vitest.mutation.config.ts' : 'vitest.config.ts', related: false },
  mutate: files ?? (module ? module.mutate : ['shared/**/*.ts']),
  coverageAnalysis: 'perTest',
  incremental: true,
  incrementalFile: `reports/mutation/${report}.incremental.json`,
  reporters: ['clear-text', 'progress', 'json'],
  jsonReporter: { fileName: `reports/mutation/${report}.json` },
  clearTextReporter: { allowColor: false, logTests: false, maxTestsToLog: 0 },
  concurrency: 2,
  timeoutMS: 60_000,
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['dist', 'reports', '.stryker-tmp', 'coverage'],
};
