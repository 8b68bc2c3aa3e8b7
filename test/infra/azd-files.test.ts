import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import AjvDraft04Module from 'ajv-draft-04';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseInfra, REPO_ROOT, type BicepFile } from './support/bicep-parser.js';
import { azdUp } from './support/azd-up.js';
import { SCHEDULE_SETTING_DEFAULTS } from '../../shared/timer-schedules.js';

/** azure.yaml and infra/main.parameters.json against their schemas, and what azd will do with them. */
const schema = (name: string) => JSON.parse(readFileSync(join(REPO_ROOT, 'test', 'fixtures', 'schemas', name), 'utf8')) as object;
const azureYaml = () => parseYaml(readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8')) as Record<string, any>;
const parametersFile = () => JSON.parse(readFileSync(join(REPO_ROOT, 'infra', 'main.parameters.json'), 'utf8')) as Record<string, any>;

// ajv-draft-04 is CommonJS: under NodeNext its default import is the module object, whose `default` is the class.
type AjvClass = new (options: { allErrors: boolean; strict: boolean }) => { compile(schema: object): ValidateFunction };
const AjvDraft04 = (AjvDraft04Module as unknown as { default?: AjvClass }).default ?? (AjvDraft04Module as unknown as AjvClass);
const validateAzureYaml = new Ajv2019({ allErrors: true, strict: false }).compile(schema('azure-yaml.schema.json'));
const validateParameters = new AjvDraft04({ allErrors: true, strict: false }).compile(schema('deployment-parameters.schema.json'));

let files: Map<string, BicepFile>;
beforeAll(async () => {
  files = await parseInfra();
});

describe('azure.yaml', () => {
  it('is valid', () => {
    expect(validateAzureYaml(azureYaml()), JSON.stringify(validateAzureYaml.errors)).toBe(true);
  });

  it('the schema refuses what azd refuses', () => {
    expect(validateAzureYaml({ name: 'Bad_Name', services: { api: { host: 'function' } } })).toBe(false);
    expect(validateAzureYaml({ name: 'ok', services: { api: { project: '.' } } })).toBe(false);
    expect(validateAzureYaml({ name: 'ok', hooks: { postprovision: { shell: 'bash', run: 'x' } } })).toBe(false);
    expect(validateAzureYaml({ name: 'ok', hooks: { postprovison: { run: 'x' } } })).toBe(false);
  });

  it('deploys the project as a TypeScript function app from the folder npm run package writes, without a remote build', () => {
    const api = azureYaml().services.api;
    expect(api).toMatchObject({ project: '.', language: 'ts', host: 'function', dist: 'dist/package', remoteBuild: false });
    for (const platform of ['posix', 'windows']) expect(api.hooks.prepackage[platform].run).toBe('npm run package');
  });

  it('runs hook scripts that exist', () => {
    const { hooks } = azureYaml();
    for (const [event, script] of [['postprovision', 'infra/scripts/postprovision.mjs'], ['postdeploy', 'infra/scripts/postdeploy.mjs']] as const) {
      for (const platform of ['posix', 'windows']) expect(hooks[event][platform].run).toBe(`node ${script}`);
      expect(existsSync(join(REPO_ROOT, script))).toBe(true);
    }
  });
});

describe('infra/main.parameters.json', () => {
  it('is valid', () => {
    expect(validateParameters(parametersFile()), JSON.stringify(validateParameters.errors)).toBe(true);
  });

  it('the schema refuses what ARM refuses', () => {
    expect(validateParameters({ $schema: 'x', contentVersion: '1.0', parameters: {} })).toBe(false);
    expect(validateParameters({ $schema: 'x', contentVersion: '1.0.0.0', parameters: { a: {} } })).toBe(false);
    expect(validateParameters({ $schema: 'x', contentVersion: '1.0.0.0', parameters: { a: { value: 1, reference: { keyVault: { id: 'v' }, secretName: 's' } } } })).toBe(false);
  });

  it('sets only parameters main.bicep declares, and azd prompts for none (the secrets are generated)', async () => {
    const up = await azdUp(files, {});
    expect(Object.keys(up.generated).sort()).toEqual(['managementKey', 'telemetryHashKey']);
    for (const secret of Object.values(up.generated)) expect(secret.length).toBeGreaterThanOrEqual(32);
  });

  it("sets every timer's schedule setting to its default, so the host resolves each timer's %SETTING% reference", async () => {
    const up = await azdUp(files, {});
    const schedules = Object.fromEntries(Object.entries(up.appSettings).filter(([name]) => name.endsWith('_SCHEDULE')));
    expect(schedules).toEqual(SCHEDULE_SETTING_DEFAULTS);
    expect(Object.keys(schedules)).toHaveLength(7);
  });

  it('defaults ENABLED_GEOGRAPHIES to Europe', () => {
    expect(parametersFile().parameters.enabledGeographies.value).toBe('${ENABLED_GEOGRAPHIES=Europe}');
  });
});
