import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The privacy console's build: `npm run build` runs `vite build --config console/vite.config.ts`
 * into dist/console, which functions/console.ts serves at /console (and `npm run package` copies
 * into the deployment package). Preact's JSX through Oxc, no plugin. Hashed file names under
 * assets/ (cached as immutable), no inline scripts (the page's Content-Security-Policy allows
 * only its own files), no public folder, no external requests.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  publicDir: false,
  logLevel: 'warn',
  // The production JSX transform always (vitest runs with NODE_ENV=test, which would pick the development one).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact', development: false } },
  build: {
    outDir: fileURLToPath(new URL('../dist/console', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    reportCompressedSize: false,
  },
});
