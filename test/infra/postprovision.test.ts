import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSettings } from '../../shared/config/settings.js';
import { parseInfra, REPO_ROOT } from './support/bicep-parser.js';
import { azdUp, type AzdUp } from './support/azd-up.js';

/** infra/scripts/postprovision.mjs writes a local.settings.json that runs the app against the provisioned stores, keyless. */
let up: AzdUp;
beforeAll(async () => {
  up = await azdUp(await parseInfra(), { ENABLED_GEOGRAPHIES: 'Europe,Japan' });
});

function runScript(existing: object | undefined, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'postprovision-'));
  const out = join(dir, 'local.settings.json');
  if (existing) writeFileSync(out, JSON.stringify(existing));
  const stdout = execFileSync(process.execPath, [join(REPO_ROOT, 'infra', 'scripts', 'postprovision.mjs'), '--out', out], { cwd: REPO_ROOT, env: { PATH: process.env.PATH, ...env }, encoding: 'utf8' });
  return { settings: JSON.parse(readFileSync(out, 'utf8')) as { Values: Record<string, string>; Host?: unknown }, stdout };
}

describe('postprovision: local.settings.json for npm start against Azure', () => {
  it('points every geography at its own accounts, in strict residency, with no key, and the app accepts it', () => {
    const { settings, stdout } = runScript(undefined, up.env);
    const values = settings.Values;
    expect(values).toMatchObject({ STRICT_RESIDENCY: 'true', STORE_PROVISIONING: 'verify', ENABLED_GEOGRAPHIES: 'europe,japan', COSMOS_ENDPOINT: up.appSettings.COSMOS_ENDPOINT });
    for (const [name, value] of Object.entries(up.appSettings)) {
      if (/__(EUROPE|JAPAN)$/.test(name)) expect(values[name], name).toBe(value);
    }
    expect(Object.keys(values).filter((name) => /KEY(__|$)|CONNECTION_STRING|^AZURE_CLIENT_ID$/.test(name) && !/^(MANAGEMENT_KEY|TELEMETRY_HASH_KEY)$/.test(name) && values[name] !== '')).toEqual([]);
    const parsed = parseSettings({ ...values, MANAGEMENT_KEY: 'k'.repeat(32), TELEMETRY_HASH_KEY: 'h'.repeat(32) });
    expect(parsed.strictResidency).toBe(true);
    expect(parsed.enabledGeographies).toEqual(['europe', 'japan']);
    expect(stdout).toMatch(/DEVELOPER_DATA_ACCESS true/);
  });

  it('keeps the developer\'s other settings and removes keys that would win over Entra', () => {
    const existing = { IsEncrypted: false, Values: { MANAGEMENT_KEY: 'm'.repeat(40), LOG_LEVEL: 'debug', COSMOS_KEY: 'emulator-key', STORAGE_CONNECTION_STRING__EUROPE: 'UseDevelopmentStorage=true', EVENTGRID_TOPIC_KEY: 'k', AZURE_CLIENT_ID: 'x' }, Host: { LocalHttpPort: 7072 } };
    const { settings } = runScript(existing, { ...up.env, DEVELOPER_DATA_ACCESS: 'true' });
    expect(settings.Values).toMatchObject({ MANAGEMENT_KEY: 'm'.repeat(40), LOG_LEVEL: 'debug' });
    for (const name of ['COSMOS_KEY', 'STORAGE_CONNECTION_STRING__EUROPE', 'EVENTGRID_TOPIC_KEY', 'AZURE_CLIENT_ID']) expect(settings.Values).not.toHaveProperty(name);
    expect(settings.Host).toEqual({ LocalHttpPort: 7072 });
  });

  it('refuses to write anything before a provision', () => {
    expect(() => runScript(undefined, {})).toThrow(/missing azd environment values: COSMOS_ENDPOINT, ENABLED_GEOGRAPHY_KEYS, GEOGRAPHIES/);
  });
});
