import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

/**
 * `npm start` copies local.settings.sample.json into local.settings.json on first run and starts
 * every embedded server on the ports it names, so two servers sharing one port would fail the very
 * first start (it did once: the SMTP relay's and the SMSC's HTTP APIs both named 7076).
 */
it('the sample settings give every local server a port of its own', () => {
  const sample = JSON.parse(readFileSync(new URL('../../local.settings.sample.json', import.meta.url), 'utf8')) as { Values: Record<string, string>; Host?: { LocalHttpPort?: number } };
  const ports = Object.entries(sample.Values)
    .filter(([name]) => /^LOCAL_.*_PORT$/.test(name))
    .map(([name, value]) => [name, Number(value)] as const);
  ports.push(['Host.LocalHttpPort', Number(sample.Host?.LocalHttpPort ?? 7071)]);
  expect(ports.length).toBe(10);
  for (const [name, port] of ports) expect(Number.isInteger(port) && port > 0, name).toBe(true);
  const byPort = new Map<number, string[]>();
  for (const [name, port] of ports) byPort.set(port, [...(byPort.get(port) ?? []), name]);
  expect([...byPort.values()].filter((names) => names.length > 1)).toEqual([]);
});
