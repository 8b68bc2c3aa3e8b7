import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import type { TestSpecification, Vitest } from 'vitest/node';
import { ISOLATED_TEST_FILES } from '../../vitest.config.js';
import { SLOW_TEST_FILES, SlowFirstSequencer } from '../support/slow-first-sequencer.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

it('names in the slow and isolated lists only test files that exist, each slow file once', () => {
  expect([...SLOW_TEST_FILES, ...ISOLATED_TEST_FILES].filter((file) => !existsSync(repoRoot + file))).toEqual([]);
  expect(new Set(SLOW_TEST_FILES).size).toBe(SLOW_TEST_FILES.length);
});

it('starts the slow files first, in their listed order whatever their project, and keeps the order vitest gives the rest', async () => {
  const spec = (file: string, project: 'isolated' | 'shared') =>
    ({ moduleId: repoRoot + file, project: { name: project, config: { sequence: { groupOrder: 0 }, isolate: project === 'isolated' } } }) as unknown as TestSpecification;
  const noCache = { getFileTestResults: () => undefined, getFileStats: () => undefined };
  const sequencer = new SlowFirstSequencer({ config: { root: repoRoot }, cache: noCache } as unknown as Vitest);
  const files = [
    spec('test/unit/a.test.ts', 'shared'),
    spec('test/integration/deployment-package.test.ts', 'isolated'),
    spec('test/integration/route-fuzz.test.ts', 'shared'),
    spec('test/integration/dev-host-queues.test.ts', 'isolated'),
    spec('test/integration/dev-host.test.ts', 'isolated'),
    spec('test/integration/chat-races.test.ts', 'shared'),
    spec('test/unit/b.test.ts', 'shared'),
  ];
  expect((await sequencer.sort(files)).map((f) => f.moduleId.slice(repoRoot.length))).toEqual([
    'test/integration/dev-host-queues.test.ts',
    'test/integration/deployment-package.test.ts',
    'test/integration/chat-races.test.ts',
    'test/integration/dev-host.test.ts',
    'test/integration/route-fuzz.test.ts',
    // vitest's own order for the rest.
    'test/unit/a.test.ts',
    'test/unit/b.test.ts',
  ]);
});

it('lists every isolated file among the first four, so that none queued between shared files ends a shared worker', () => {
  expect(SLOW_TEST_FILES.slice(0, 4).filter((file) => ISOLATED_TEST_FILES.includes(file)).sort()).toEqual([...ISOLATED_TEST_FILES].sort());
});
