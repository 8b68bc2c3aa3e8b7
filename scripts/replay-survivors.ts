import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';

/**
 * Replays each mutant a Stryker run reported as survived (or not covered) in a plain vitest run of
 * the module's test files, the way `npm test` would meet it: the mutant planted in the source, the
 * files run, the source restored. Stryker's vitest runner counts a mutant that makes a test file fail
 * before its tests (a module that no longer imports, a stack that no longer starts) as survived, and
 * its per-test coverage sometimes leaves out the test that would kill a mutant; this tells those apart
 * from the real survivors.
 *
 *   node dist/scripts/replay-survivors.js reports/mutation/<report>.json test/a.test.ts [test/b.test.ts ...]
 *
 * Prints one line per mutant: file:line mutator `replacement` -> killed | survived.
 */
interface Position {
  line: number;
  column: number;
}
interface Mutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: { start: Position; end: Position };
}
interface Report {
  files: Record<string, { mutants: Mutant[] }>;
}

/** The source with the range (1-based lines and columns, end exclusive) replaced. */
export function plant(source: string, mutant: Mutant): string {
  const lines = source.split('\n');
  const offset = (p: Position) => lines.slice(0, p.line - 1).reduce((sum, line) => sum + line.length + 1, 0) + p.column - 1;
  return source.slice(0, offset(mutant.location.start)) + (mutant.replacement ?? '') + source.slice(offset(mutant.location.end));
}

function main(): void {
  const [reportPath, ...testFiles] = process.argv.slice(2);
  if (!reportPath || testFiles.length === 0) throw new Error('usage: replay-survivors <report.json> <test file> [...]');
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  let survived = 0;
  let killed = 0;
  for (const [file, { mutants }] of Object.entries(report.files)) {
    const original = readFileSync(file, 'utf8');
    for (const mutant of mutants.filter((m) => m.status === 'Survived' || m.status === 'NoCoverage')) {
      writeFileSync(file, plant(original, mutant));
      try {
        const run = spawnSync('npx', ['vitest', 'run', '--bail=1', ...testFiles], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const outcome = run.status === 0 ? 'survived' : 'killed';
        if (outcome === 'killed') killed += 1;
        else survived += 1;
        console.log(`${file}:${mutant.location.start.line} ${mutant.mutatorName} \`${(mutant.replacement ?? '').replace(/\s+/g, ' ').slice(0, 80)}\` -> ${outcome}`);
      } finally {
        writeFileSync(file, original);
      }
    }
  }
  console.log(`replayed ${killed + survived}: killed ${killed}, survived ${survived}`);
}

if (import.meta.url === `file://${process.argv[1]}`) main();
