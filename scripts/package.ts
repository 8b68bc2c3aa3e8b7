import { cp, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Metafile, type Plugin } from 'esbuild';
import { zipFolder } from './zip-folder.js';

/**
 * `npm run package`: what is deployed. One esbuild bundle of `functions/` and what they import from
 * `shared/` and the runtime dependencies, as ES modules with code splitting:
 *
 *   dist/package/app.js          registers every function (the files of functions/, in the order
 *                                the host's glob would load them); the package.json `main`
 *   dist/package/chunks/*.js     what the functions import with `import()` (the Cosmos, Blob, Event
 *                                Grid and Entra SDKs, jose, busboy, croner): loaded on first use
 *   dist/package/package.json    `"type": "module"`, `"main": "app.js"`, no dependencies
 *   dist/package/host.json       the app's host.json
 *   dist/package/console/        the built privacy console (dist/console, from `npm run build`),
 *                                served by functions/console.ts at /console
 *   dist/package.zip             the folder as a zip-deploy archive
 *   dist/package-sourcemaps/     source maps of the bundle, kept out of the package
 *
 * `@azure/functions-core` stays external: the Node.js worker provides it. Nothing of `local/`,
 * `test/`, `bench/` or the dev dependencies may end up in the bundle; the build fails if it does.
 */

export const PACKAGE_MAIN = 'app.js';

export interface PackageOptions {
  /** The repository root (functions/, host.json, package.json). */
  root: string;
  /** The package folder, emptied first. */
  outDir: string;
  /** Where the zip of the package folder goes (none if absent). */
  zipPath?: string;
  /** Where the source maps go (none if absent); never inside `outDir`. */
  sourcemapDir?: string;
  /** The built privacy console (Vite's output), copied to `console/` in the package; none if absent. */
  consoleDir?: string;
}

export interface PackageResult {
  outDir: string;
  /** The function files bundled, in load order. */
  functionFiles: string[];
  /** Bytes of app.js, of every chunk together, and of the whole folder. */
  entryBytes: number;
  /** What importing the app loads: app.js and the chunks it imports statically, transitively (bytes, chunk count). */
  startBytes: number;
  startChunks: number;
  chunkBytes: number;
  chunks: number;
  folderBytes: number;
  zip?: { path: string; bytes: number; files: number };
}

/** The module that must never be bundled: the worker provides it at run time. */
export const EXTERNAL = ['@azure/functions-core'];

/**
 * Bundled CommonJS code (@azure/functions itself) calls `require` for node builtins and for
 * `@azure/functions-core`; in an ES module that needs a real `require`. The worker's
 * `@azure/functions-core` hook sits on `Module.prototype.require`, which this one goes through.
 */
export const REQUIRE_BANNER = "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);";

export async function buildPackage(options: PackageOptions): Promise<PackageResult> {
  const root = resolve(options.root);
  const outDir = resolve(options.outDir);
  if (options.sourcemapDir && !relative(outDir, resolve(options.sourcemapDir)).startsWith('..')) {
    throw new Error('The source maps must go outside the package folder.');
  }
  const functionsDir = join(root, 'functions');
  // The same files, in the same order, as the development host's loadFunctionFiles and the host's glob.
  const functionFiles = (await readdir(functionsDir)).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).sort();
  const entry: Plugin = {
    name: 'functions-entry',
    setup(b) {
      b.onResolve({ filter: /^functions-entry$/ }, () => ({ path: 'functions-entry', namespace: 'functions-entry' }));
      b.onLoad({ filter: /.*/, namespace: 'functions-entry' }, () => ({
        contents: functionFiles.map((f) => `import './functions/${f.replace(/\.ts$/, '.js')}';`).join('\n'),
        resolveDir: root,
        loader: 'ts',
      }));
    },
  };

  await rm(outDir, { recursive: true, force: true });
  if (options.sourcemapDir) await rm(options.sourcemapDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: [{ in: 'functions-entry', out: PACKAGE_MAIN.replace(/\.js$/, '') }],
    plugins: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    splitting: true,
    outdir: outDir,
    chunkNames: 'chunks/[name]-[hash]',
    external: EXTERNAL,
    banner: { js: REQUIRE_BANNER },
    // Not minified: a stack trace from Azure names real functions and lines that can be read (each
    // module starts with a `// path` comment); minifying saves upload bytes, not start-up time.
    sourcemap: options.sourcemapDir ? 'external' : false,
    sourcesContent: false,
    legalComments: 'eof',
    metafile: true,
    logLevel: 'warning',
  });
  const rootPackage = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as RootPackageJson;
  checkInputs(result.metafile, root, rootPackage);

  if (options.sourcemapDir) {
    for (const output of Object.keys(result.metafile.outputs).filter((o) => o.endsWith('.map'))) {
      const from = join(root, output);
      const to = join(options.sourcemapDir, relative(outDir, from));
      await mkdir(dirname(to), { recursive: true });
      await rename(from, to);
    }
  }

  const packageJson = {
    name: rootPackage.name,
    version: rootPackage.version,
    private: true,
    description: 'Deployment package built by `npm run package`: every dependency is bundled.',
    type: 'module',
    main: PACKAGE_MAIN,
    ...(rootPackage.engines ? { engines: rootPackage.engines } : {}),
  };
  await writeFile(join(outDir, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  await copyFile(join(root, 'host.json'), join(outDir, 'host.json'));
  if (options.consoleDir) {
    if (!(await stat(join(options.consoleDir, 'index.html')).catch(() => undefined))) throw new Error(`The console is not built in ${options.consoleDir} (npm run build builds it).`);
    await cp(options.consoleDir, join(outDir, 'console'), { recursive: true });
  }

  let entryBytes = 0;
  let chunkBytes = 0;
  let chunks = 0;
  for (const [output, meta] of Object.entries(result.metafile.outputs)) {
    if (output.endsWith('.map')) continue;
    if (resolve(root, output) === join(outDir, PACKAGE_MAIN)) entryBytes = meta.bytes;
    else {
      chunkBytes += meta.bytes;
      chunks += 1;
    }
  }
  const atStart = staticClosure(result.metafile, Object.keys(result.metafile.outputs).find((o) => resolve(root, o) === join(outDir, PACKAGE_MAIN))!);
  const startBytes = atStart.reduce((sum, output) => sum + result.metafile.outputs[output]!.bytes, 0);
  let folderBytes = 0;
  for (const file of await walk(outDir)) folderBytes += (await stat(file)).size;
  const zip = options.zipPath ? { path: options.zipPath, ...(await zipFolder(outDir, options.zipPath)) } : undefined;
  return { outDir, functionFiles, entryBytes, startBytes, startChunks: atStart.length - 1, chunkBytes, chunks, folderBytes, ...(zip ? { zip } : {}) };
}

interface RootPackageJson {
  name: string;
  version: string;
  engines?: Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/** Refuses a bundle that took in anything but functions/, shared/ and the runtime dependencies. */
function checkInputs(metafile: Metafile, root: string, rootPackage: RootPackageJson): void {
  const devOnly = Object.keys(rootPackage.devDependencies ?? {});
  const wrong: string[] = [];
  for (const input of Object.keys(metafile.inputs)) {
    if (input.startsWith('functions-entry:')) continue;
    const path = relative(root, resolve(root, input)).split('\\').join('/');
    const inModules = path.split('node_modules/').pop()!;
    if (path.includes('node_modules/')) {
      const name = inModules.startsWith('@') ? inModules.split('/').slice(0, 2).join('/') : inModules.split('/')[0]!;
      if (devOnly.includes(name)) wrong.push(path);
    } else if (!/^(functions|shared)\//.test(path)) {
      wrong.push(path);
    }
  }
  if (wrong.length > 0) throw new Error(`The deployment bundle must not contain: ${wrong.slice(0, 10).join(', ')}`);
}

/** An output and every output it imports statically, transitively: what loads when it is imported. */
function staticClosure(metafile: Metafile, entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const output = pending.pop()!;
    if (seen.has(output)) continue;
    seen.add(output);
    for (const imported of metafile.outputs[output]!.imports) if (imported.kind === 'import-statement' && metafile.outputs[imported.path]) pending.push(imported.path);
  }
  return [...seen];
}

async function walk(folder: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else files.push(path);
  }
  return files;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
  const dist = join(root, 'dist');
  const started = performance.now();
  const result = await buildPackage({
    root,
    outDir: join(dist, 'package'),
    zipPath: join(dist, 'package.zip'),
    sourcemapDir: join(dist, 'package-sourcemaps'),
    consoleDir: join(dist, 'console'),
  });
  console.log(
    [
      `dist/package: ${result.functionFiles.length} function files bundled in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      `  ${PACKAGE_MAIN} ${kb(result.entryBytes)}; loaded at import: ${kb(result.startBytes)} (app.js and the ${result.startChunks} chunks it imports); ${result.chunks} chunks ${kb(result.chunkBytes)} in all, the rest loaded on first use; folder ${kb(result.folderBytes)}`,
      `  dist/package.zip ${kb(result.zip!.bytes)} (${result.zip!.files} files); source maps in dist/package-sourcemaps (not deployed)`,
    ].join('\n'),
  );
}
