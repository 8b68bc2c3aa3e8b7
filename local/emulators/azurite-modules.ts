import { Module, createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * Loads one of Azurite's modules (`azurite/dist/src/...`) into this process, never its telemetry.
 *
 * Azurite's telemetry module requires `applicationinsights` when it is loaded, even when telemetry
 * stays off (it is only switched on by Azurite's own CLI entry, which the embedded emulators never
 * run). Loading it is not free for the whole process: it hooks every later `require`
 * (require-in-the-middle) and registers an OpenTelemetry instrumenter that every Azure SDK client in
 * the process then calls for each request. So before Azurite's first module, the package is put in
 * the module cache as an empty module: Azurite reads it only when telemetry is switched on.
 */
export function requireAzurite<T>(path: string): T {
  stubTelemetry ??= stubAzuriteTelemetry();
  return require(path) as T;
}

let stubTelemetry: true | undefined;

function stubAzuriteTelemetry(): true {
  const telemetry = createRequire(require.resolve('azurite/dist/src/common/Telemetry.js')).resolve('applicationinsights');
  if (!require.cache[telemetry]) {
    const empty = new Module(telemetry);
    empty.filename = telemetry;
    empty.loaded = true;
    require.cache[telemetry] = empty;
  }
  return true;
}
