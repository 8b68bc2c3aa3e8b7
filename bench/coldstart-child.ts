import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installFunctionsCore } from '../local/functions-core-shim.js';

/**
 * One side of the cold-start benchmark, in a fresh Node process: imports the app in the folder
 * given as the argument the way the worker does (the files its package.json `main` names, a `*`
 * glob in sorted order) and prints, as JSON, how long the imports took, the time since the process
 * started, how long its start hooks took, and how many functions registered. The functions-core
 * stand-in is preloaded.
 */
const folder = process.argv[2]!;
const { main } = JSON.parse(await readFile(join(folder, 'package.json'), 'utf8')) as { main: string };
let files = [join(folder, main)];
if (main.includes('*')) {
  const dir = join(folder, main.slice(0, main.lastIndexOf('/') + 1));
  const pattern = new RegExp(`^${main.slice(main.lastIndexOf('/') + 1).replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')}$`);
  files = (await readdir(dir)).filter((f) => pattern.test(f)).sort().map((f) => join(dir, f));
}
const urls = files.map((f) => pathToFileURL(f).href);

const core = installFunctionsCore();
const started = performance.now();
const app = await core.load(folder, async () => {
  for (const url of urls) await import(url);
});
const importMs = performance.now() - started;
const sinceStartMs = performance.now();
// Then the app's start hooks, as the worker runs them before the first invocation (the app checks
// its settings there; the hello world has none).
const hookStarted = performance.now();
await app.runHooks('appStart', { hookData: {}, appHookData: {}, functionAppDirectory: folder });
const startHookMs = performance.now() - hookStarted;
// What the first invocation waits for (the package only): the chunk holding the composition root,
// with the domain code it imports. The hook's background load of it is not waited for first.
let firstUseMs: number | undefined;
if (process.env.BENCH_FIRST_USE_CHUNK) {
  const firstUse = performance.now();
  await import(pathToFileURL(join(folder, process.env.BENCH_FIRST_USE_CHUNK)).href);
  firstUseMs = performance.now() - firstUse;
}
console.log(JSON.stringify({ importMs, sinceStartMs, startHookMs, firstUseMs, functions: app.functions.size }));
// The app's background work started by the hook (the composition root's load) is not waited for.
process.exit(0);
