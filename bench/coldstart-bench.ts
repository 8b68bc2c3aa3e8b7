import { spawn } from 'node:child_process';
import { access, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { EXTERNAL, REQUIRE_BANNER } from '../scripts/package.js';

/**
 * Cold start: the wall time of importing the deployed package (dist/package, `npm run package`)
 * against importing a hello-world v4 app (one HTTP function, @azure/functions from node_modules, as
 * a hello world is deployed), each in a fresh Node process with the same functions-core stand-in
 * preloaded. The sides alternate (their order swapped every round) in one process tree; the ratio
 * is of the medians. Measured alongside for comparison: the same hello world bundled as the package
 * is (what @azure/functions alone costs once bundled), and the unbundled tsc build
 * (dist/functions/*.js, the root package.json `main`).
 */
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
const here = join(root, 'dist', 'bench');

interface Sample {
  importMs: number;
  sinceStartMs: number;
  /** The app's appStart hooks (awaited by the worker before the first invocation). */
  startHookMs: number;
  /** The package only: importing the chunk of the composition root and the domain code, what the first invocation waits for. */
  firstUseMs?: number;
  functions: number;
  wallMs: number;
}

interface Side {
  label: string;
  folder: string;
  samples: Sample[];
}

const HELLO_WORLD = `import { app } from '@azure/functions';

app.http('hello', {
  methods: ['GET'],
  authLevel: 'anonymous',
  handler: async (request) => ({ body: \`Hello, \${request.query.get('name') || 'world'}!\` }),
});
`;

export async function coldStartBench(): Promise<string[]> {
  const packageDir = join(root, 'dist', 'package');
  await access(join(packageDir, 'package.json')).catch(() => {
    throw new Error('No dist/package: run `npm run package` first (`npm run bench` does).');
  });
  const hello = join(here, 'hello-world');
  await mkdir(hello, { recursive: true });
  await writeFile(join(hello, 'package.json'), `${JSON.stringify({ name: 'hello-world', type: 'module', main: 'index.js' }, null, 2)}\n`);
  await writeFile(join(hello, 'index.js'), HELLO_WORLD);
  const helloBundled = join(here, 'hello-world-bundled');
  await mkdir(helloBundled, { recursive: true });
  await writeFile(join(helloBundled, 'package.json'), `${JSON.stringify({ name: 'hello-world', type: 'module', main: 'index.js' }, null, 2)}\n`);
  await build({
    entryPoints: [join(hello, 'index.js')],
    outfile: join(helloBundled, 'index.js'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: EXTERNAL,
    banner: { js: REQUIRE_BANNER },
    logLevel: 'warning',
  });
  const built = join(here, 'tsc-build');
  await mkdir(built, { recursive: true });
  await writeFile(join(built, 'package.json'), `${JSON.stringify({ type: 'module', main: '../../functions/*.js' }, null, 2)}\n`);

  const pairs = Math.max(9, Number(process.env.BENCH_COLDSTART_PAIRS || 15));
  const sides: Side[] = [
    { label: 'deployed package (dist/package)', folder: packageDir, samples: [] },
    { label: 'hello-world v4 app', folder: hello, samples: [] },
    { label: 'hello-world v4 app, bundled like the package', folder: helloBundled, samples: [] },
    { label: 'tsc build, unbundled (dist/functions/*.js)', folder: built, samples: [] },
    // Other app folders to compare (e.g. another commit's package), by path.
    ...(process.env.BENCH_COLDSTART_EXTRA || '').split(',').filter(Boolean).map((folder) => ({ label: folder, folder: resolve(folder), samples: [] })),
  ];
  const firstUseChunk = await chunkHolding(packageDir, 'shared/services.ts');
  // One unrecorded round first: the files into the page cache.
  for (const side of sides) await runChild(side.folder, side.folder === packageDir ? firstUseChunk : undefined);
  for (let round = 0; round < pairs; round += 1) {
    const order = round % 2 === 0 ? sides : [...sides].reverse();
    for (const side of order) side.samples.push(await runChild(side.folder, side.folder === packageDir ? firstUseChunk : undefined));
  }

  const [app, world, worldBundled, tsc] = sides as [Side, Side, Side, Side, ...Side[]];
  const vsWorld = (side: Side) => (median(side.samples.map((s) => s.importMs)) / median(world.samples.map((s) => s.importMs))).toFixed(2);
  const ratio = median(app.samples.map((s) => s.importMs)) / median(world.samples.map((s) => s.importMs));
  const pairRatios = app.samples.map((s, i) => s.importMs / world.samples[i]!.importMs);
  const entry = (await stat(join(packageDir, 'app.js'))).size;
  const chunks = await readdir(join(packageDir, 'chunks')).catch(() => []);
  return [
    `${pairs} rounds, sides alternating; import = performance.now() around the import() of the app's main in the child; wall = spawn to exit`,
    ...sides.map((side) => line(side)),
    `deployed package (app.js ${(entry / 1024).toFixed(0)} KB, ${chunks.length} chunks): cold-start ratio ${ratio.toFixed(2)} ` +
      `(median import vs hello world's; median of the rounds' ratios ${median(pairRatios).toFixed(2)}), target <= 1.5`,
    `for comparison, against the hello world's import: bundled hello world ${vsWorld(worldBundled)}, tsc build ${vsWorld(tsc)}` +
      sides
        .slice(4)
        .map((side) => `, ${side.label} ${vsWorld(side)}`)
        .join(''),
    `deployed package against the bundled hello world: ${(median(app.samples.map((s) => s.importMs)) / median(worldBundled.samples.map((s) => s.importMs))).toFixed(2)}`,
    `then the first invocation loads the composition root and the domain code (${firstUseChunk}, with the chunks it imports): ${median(app.samples.map((s) => s.firstUseMs ?? 0)).toFixed(0)} ms median`,
    `import and start hooks together (the worker's whole start before the first invocation): deployed package ${median(app.samples.map(startMs)).toFixed(0)} ms, ` +
      `hello world ${median(world.samples.map(startMs)).toFixed(0)} ms, ratio ${(median(app.samples.map(startMs)) / median(world.samples.map(startMs))).toFixed(2)}; tsc build ${median(tsc.samples.map(startMs)).toFixed(0)} ms`,
  ];
}

const startMs = (s: Sample) => s.importMs + s.startHookMs;

function line(side: Side): string {
  const imports = side.samples.map((s) => s.importMs);
  const functions = new Set(side.samples.map((s) => s.functions));
  return (
    `${side.label.padEnd(46)} import median ${median(imports).toFixed(0)} ms (p25 ${quantile(imports, 0.25).toFixed(0)}, p75 ${quantile(imports, 0.75).toFixed(0)}), ` +
    `process start to imported ${median(side.samples.map((s) => s.sinceStartMs)).toFixed(0)} ms, start hooks ${median(side.samples.map((s) => s.startHookMs)).toFixed(0)} ms, wall ${median(side.samples.map((s) => s.wallMs)).toFixed(0)} ms, ` +
    `${[...functions].join('/')} functions`
  );
}

/** The package's chunk whose modules include `source` (esbuild starts each module with a `// path` comment). */
async function chunkHolding(packageDir: string, source: string): Promise<string> {
  for (const chunk of await readdir(join(packageDir, 'chunks'))) {
    if ((await readFile(join(packageDir, 'chunks', chunk), 'utf8')).includes(`\n// ${source}\n`)) return `chunks/${chunk}`;
  }
  throw new Error(`No chunk of the package holds ${source}`);
}

function runChild(folder: string, firstUseChunk?: string): Promise<Sample> {
  const started = performance.now();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', pathToFileURL(join(here, 'coldstart-preload.js')).href, join(here, 'coldstart-child.js'), folder], {
      stdio: ['ignore', 'pipe', 'inherit'],
      // Valid settings for the app's start hook (it checks them; nothing is reached before the child exits).
      env: { ...process.env, MANAGEMENT_KEY: 'bench-management-key-0123456789abcdef', TELEMETRY_HASH_KEY: 'bench-telemetry-key-0123456789abcdef', COSMOS_ENDPOINT: 'https://127.0.0.1:9/', STORAGE_ACCOUNT_URL: 'https://127.0.0.1:9/', EVENTGRID_TOPIC_ENDPOINT: 'https://127.0.0.1:9/api/events', BENCH_FIRST_USE_CHUNK: firstUseChunk ?? '' },
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`cold-start child for ${folder} exited with ${code}`));
      resolvePromise({ ...(JSON.parse(out) as Omit<Sample, 'wallMs'>), wallMs });
    });
  });
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
