import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { buildPackage, PACKAGE_MAIN, type PackageResult } from '../../scripts/package.js';
import { createChatUser, userRef } from '../support/chat-users.js';
import { buildConsole } from '../support/console-build.js';
import { uploadRecording } from '../support/recordings.js';
import { repoRoot, startTestStack, type TestStack } from '../support/test-stack.js';

/**
 * The deployment package (`npm run package`): built into a temporary folder, then loaded by the
 * development host in place of the sources, as the worker loads it in Azure (`main`), and used
 * through the official SDKs, which loads the lazily imported chunks of the Cosmos, Blob and Event Grid
 * SDKs, jose and busboy from the package on first use. Every other chunk is imported once as well.
 */

let dir: string;
let result: PackageResult;
let stack: TestStack;
let consoleDir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acs-residency-package-'));
  consoleDir = await buildConsole();
  result = await buildPackage({ root: repoRoot, outDir: join(dir, 'package'), zipPath: join(dir, 'package.zip'), sourcemapDir: join(dir, 'sourcemaps'), consoleDir });
  stack = await startTestStack({ functionsDir: result.outDir });
});
afterAll(async () => {
  await stack?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  if (consoleDir) await rm(consoleDir, { recursive: true, force: true });
});

async function filesUnder(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) found.push(relative(folder, join(entry.parentPath, entry.name)).split('\\').join('/'));
  }
  return found.sort();
}

/** The entries of a zip archive, read back with yauzl (CRC-checked as they are read). */
async function unzip(path: string): Promise<Map<string, Buffer>> {
  const zip = await yauzl.openPromise(path);
  const entries = new Map<string, Buffer>();
  try {
    for await (const entry of zip.eachEntry()) {
      const chunks: Buffer[] = [];
      for await (const chunk of await zip.openReadStreamPromise(entry)) chunks.push(chunk as Buffer);
      entries.set(entry.fileName, Buffer.concat(chunks));
    }
  } finally {
    zip.close();
  }
  return entries;
}

describe('deployment package', () => {
  it('holds app.js, its chunks, host.json, a package.json whose main is app.js, with no dependencies, and the console; no source maps', async () => {
    const files = await filesUnder(result.outDir);
    expect(files.filter((f) => !f.startsWith('chunks/') && !f.startsWith('console/'))).toEqual([PACKAGE_MAIN, 'host.json', 'package.json']);
    expect(files.filter((f) => f.startsWith('console/'))).toEqual((await filesUnder(consoleDir)).map((f) => `console/${f}`));
    expect(files.filter((f) => f.startsWith('chunks/')).every((f) => f.endsWith('.js'))).toBe(true);
    const packageJson = JSON.parse(await readFile(join(result.outDir, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(packageJson).toMatchObject({ type: 'module', main: PACKAGE_MAIN });
    expect(packageJson.dependencies).toBeUndefined();
    expect(await readFile(join(result.outDir, 'host.json'), 'utf8')).toBe(await readFile(join(repoRoot, 'host.json'), 'utf8'));
    expect((await filesUnder(join(dir, 'sourcemaps'))).length).toBeGreaterThan(0);
  });

  it('zips exactly the package folder', async () => {
    const entries = await unzip(result.zip!.path);
    const files = await filesUnder(result.outDir);
    expect([...entries.keys()].sort()).toEqual(files);
    for (const file of files) expect(entries.get(file)!.equals(await readFile(join(result.outDir, file))), file).toBe(true);
  });

  it('loads only @azure/functions and the function registrations at import: no domain code, no zod, no SDK', async () => {
    // What importing app.js loads: app.js and the chunks it imports statically, transitively.
    const loaded = new Set<string>();
    const pending = [PACKAGE_MAIN];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (loaded.has(file)) continue;
      loaded.add(file);
      const code = await readFile(join(result.outDir, file), 'utf8');
      for (const m of code.matchAll(/^import\s(?:[^;]*?\sfrom\s)?"(\.\.?\/[^"]+)";/gm)) pending.push(join(dirname(file), m[1]!).split('\\').join('/'));
    }
    expect(loaded.size).toBe(result.startChunks + 1);
    // esbuild names each module by its real path: `node_modules/...` (or `../<checkout>/node_modules/...`
    // where node_modules is a link to another checkout's), `functions/...`, `shared/...`.
    const modules: string[] = [];
    for (const file of loaded) modules.push(...[...(await readFile(join(result.outDir, file), 'utf8')).matchAll(/^\/\/ (?:\.\.\/[^/\n]+\/)?((?:node_modules|functions|shared)\/\S+)$/gm)].map((m) => m[1]!));
    const packages = [...new Set(modules.filter((m) => m.startsWith('node_modules/')).map((m) => m.split('/').slice(0, m.split('/')[1]!.startsWith('@') ? 3 : 2).join('/')))].sort();
    expect(packages).toEqual(['node_modules/@azure/functions', 'node_modules/@azure/functions-extensions-base', 'node_modules/cookie']);
    const ours = [...new Set(modules.filter((m) => !m.startsWith('node_modules/')))].sort();
    expect(ours.filter((m) => m.startsWith('shared/'))).toEqual([
      'shared/config/settings-env.ts',
      'shared/email/email-delivery-output.ts',
      'shared/errors/service-error.ts',
      'shared/http/id-param.ts',
      'shared/http/methods.ts',
      'shared/http/query-routes.ts',
      'shared/lazy-handler.ts',
      'shared/queues/work-queues.ts',
      'shared/timer-schedules.ts',
    ]);
    expect(ours.filter((m) => m.startsWith('functions/'))).toEqual(result.functionFiles.map((f) => `functions/${f}`).sort());
  });

  it('registers every function the sources declare', async () => {
    const declared: string[] = [];
    for (const file of result.functionFiles) {
      const source = await readFile(join(repoRoot, 'functions', file), 'utf8');
      declared.push(...[...source.matchAll(/app\.(?:http|timer|eventGrid|storageBlob|storageQueue|generic)\(\s*'([^']+)'/g)].map((m) => m[1]!));
    }
    expect(declared.length).toBeGreaterThan(20);
    expect(stack.host.functions().map((f) => f.metadata.name).sort()).toEqual(declared.sort());
  });

  it('serves identities, tokens, chat with its events, and recording uploads from the bundle', async () => {
    const resource = await stack.createResource('package-eu', 'Europe');
    const [alice, bob] = await Promise.all([createChatUser(stack, resource), createChatUser(stack, resource)]);
    const created = await alice.chat.createChatThread({ topic: 'From the package' }, { participants: [{ id: userRef(bob) }] });
    const threadId = created.chatThread!.id;
    const sent = await alice.thread(threadId).sendMessage({ content: 'hello' });
    const messages = [];
    for await (const message of bob.thread(threadId).listMessages()) if (message.type === 'text') messages.push(message);
    expect(messages.map((m) => [m.id, m.content?.message])).toEqual([[sent.id, 'hello']]);
    await expect.poll(() => stack.topic!.received().some((r) => (r.event as { type?: string }).type === 'Microsoft.Communication.ChatMessageReceived'), { timeout: 10_000 }).toBe(true);

    const upload = await uploadRecording(stack, resource, {});
    expect(upload.status, upload.text).toBe(201);
  });

  it('serves the privacy console from the package', async () => {
    const page = await fetch(`${stack.httpUrl}/console/`);
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([200, 'text/html; charset=utf-8', await readFile(join(result.outDir, 'console', 'index.html'), 'utf8')]);
  });

  it('has chunks that all load, also those no request above needed (@azure/identity, croner)', async () => {
    const chunks = (await readdir(join(result.outDir, 'chunks'))).filter((f) => f.endsWith('.js'));
    expect(chunks.length).toBe(result.chunks);
    for (const chunk of chunks) await expect(import(pathToFileURL(join(result.outDir, 'chunks', chunk)).href), chunk).resolves.toBeDefined();
  });
});
