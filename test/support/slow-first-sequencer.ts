import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that take longest, in the order they should start: each that mostly waits (polling
 * queues, a build in a child process, a second host) next to one that keeps a core busy, so the
 * workers are never all waiting. Without it a fresh clone (no timing cache) runs files in path order:
 * the files that mostly wait ran side by side first (the cores nearly idle meanwhile) and the long
 * CPU-bound files came late. Every other file follows in vitest's own order (longest first from its
 * cache, else largest first).
 *
 * Every file runs in the one vitest project, with `isolate: false`, so a worker process runs file
 * after file: a run has as many worker processes as files run at a time (3 on 2 cores). Until
 * 2026-12-03 (night) the files serving other function folders ran in processes of their own, and
 * vitest ended a shared worker whenever such a file was next in the queue (6 to 8 processes a run).
 */
export const SLOW_TEST_FILES = [
  'test/integration/dev-host-queues.test.ts',
  'test/integration/chat-races.test.ts',
  'test/integration/deployment-package.test.ts',
  'test/integration/route-fuzz.test.ts',
  'test/integration/retention-boundaries.test.ts',
  'test/integration/two-hosts.test.ts',
  'test/integration/two-hosts-failures.test.ts',
  'test/integration/outbox-fanout.test.ts',
  'test/e2e/console.test.ts',
];

export class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const rank = (spec: TestSpecification) => {
      const index = SLOW_TEST_FILES.indexOf(relative(root, spec.moduleId).split('\\').join('/'));
      return index === -1 ? SLOW_TEST_FILES.length : index;
    };
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
