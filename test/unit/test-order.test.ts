import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { SLOW_TEST_FILES, SlowFirstSequencer } from '../support/slow-first-sequencer.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

it('names in the slow list only test files that exist, each once', () => {
  expect(SLOW_TEST_FILES.filter((file) => !existsSync(repoRoot + file))).toEqual([]);
  expect(new Set(SLOW_TEST_FILES).size).toBe(SLOW_TEST_FILES.length);
});

it('starts the slow files first, in their listed order, and keeps the order vitest gives the rest', async () => {
  const spec = (file: string) => ({ moduleId: repoRoot + file, project: { name: '', config: { sequence: { groupOrder: 0 }, isolate: false } } }) as unknown as TestSpecification;
  const noCache = { getFileTestResults: () => undefined, getFileStats: () => undefined };
  const sequencer = new SlowFirstSequencer({ config: { root: repoRoot }, cache: noCache } as unknown as Vitest);
  const files = [
    spec('test/unit/a.test.ts'),
    spec('test/integration/deployment-package.test.ts'),
    spec('test/integration/route-fuzz.test.ts'),
    spec('test/integration/dev-host-queues.test.ts'),
    spec('test/integration/chat-races.test.ts'),
    spec('test/unit/b.test.ts'),
  ];
  expect((await sequencer.sort(files)).map((f) => f.moduleId.slice(repoRoot.length))).toEqual([
    'test/integration/dev-host-queues.test.ts',
    'test/integration/chat-races.test.ts',
    'test/integration/deployment-package.test.ts',
    'test/integration/route-fuzz.test.ts',
    // vitest's own order for the rest.
    'test/unit/a.test.ts',
    'test/unit/b.test.ts',
  ]);
});

it('runs, for a mutation run, only the files it is given, each in a process of its own, outside the projects', async () => {
  const previous = process.env.MUTATION_TESTS;
  process.env.MUTATION_TESTS = 'test/unit/work-items.test.ts,test/unit/hmac-auth.test.ts';
  try {
    const { default: config } = await import('../../vitest.mutation.config.js');
    // With projects, vitest would take each project's own include and run the whole suite.
    expect(config.test).toMatchObject({ include: ['test/unit/work-items.test.ts', 'test/unit/hmac-auth.test.ts'], isolate: true, projects: undefined, sequence: undefined });
  } finally {
    if (previous === undefined) delete process.env.MUTATION_TESTS;
    else process.env.MUTATION_TESTS = previous;
  }
});
