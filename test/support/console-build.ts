import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from './test-stack.js';

/**
 * Builds the privacy console with Vite's build API into a fresh temporary folder (tests never rely
 * on an earlier `npm run build`, and never race one writing dist/console), and measures it.
 */
export async function buildConsole(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), 'acs-residency-console-'));
  const { build } = await import('vite');
  await build({ configFile: join(repoRoot, 'console', 'vite.config.ts'), mode: 'production', logLevel: 'error', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export interface ConsoleSize {
  files: { path: string; bytes: number; gzipBytes: number }[];
  bytes: number;
  gzipBytes: number;
}

/** What a first load transfers: index.html and every script and stylesheet it links (raw and gzipped). */
export async function consoleSize(dir: string): Promise<ConsoleSize> {
  const files: ConsoleSize['files'] = [];
  const paths = ['index.html', ...(await readdir(join(dir, 'assets'))).filter((f) => /\.(js|css)$/.test(f)).map((f) => `assets/${f}`)];
  for (const path of paths) {
    const body = await readFile(join(dir, path));
    files.push({ path, bytes: (await stat(join(dir, path))).size, gzipBytes: gzipSync(body, { level: 9 }).length });
  }
  return { files, bytes: files.reduce((a, f) => a + f.bytes, 0), gzipBytes: files.reduce((a, f) => a + f.gzipBytes, 0) };
}
