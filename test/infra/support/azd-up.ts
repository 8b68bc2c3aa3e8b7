import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Node } from 'web-tree-sitter';
import { INFRA_DIR, readInfraFile, type BicepFile } from './bicep-parser.js';
import { allResources, deploy, SUBSCRIPTION_ID, toJson, type SimulatedDeployment, type SimulatedResource, type Value } from './bicep-evaluator.js';

/**
 * `azd up` on paper: reads infra/main.parameters.json the way azd does (`${NAME}` and `${NAME=default}`
 * from the environment, strings converted to the parameter's declared type, `@secure()` parameters
 * with `azd: {type: 'generate'}` metadata generated), deploys main.bicep at subscription scope, turns
 * its outputs into environment values, then runs the postdeploy hook's plan
 * (infra/scripts/postdeploy.mjs) and deploys the landing subscriptions it would create.
 */
export interface AzdUp {
  main: SimulatedDeployment;
  landing: SimulatedDeployment[];
  /** Every resource: the provision and the postdeploy hook's deployments. */
  resources: SimulatedResource[];
  /** azd's environment after provisioning (input plus outputs). */
  env: Record<string, string>;
  /** The function app's app settings. */
  appSettings: Record<string, string>;
  /** The values azd generated for the secure parameters. */
  generated: Record<string, string>;
}

export const DEFAULT_AZD_ENV = { AZURE_ENV_NAME: 'acsdemo', AZURE_LOCATION: 'swedencentral', AZURE_PRINCIPAL_ID: '11111111-2222-4333-8444-555555555555' };

type PostdeployModule = {
  landingDeployments(env: Record<string, string | undefined>): { geography: string; parameters: Record<string, string>; args: string[] }[];
  LANDING_TEMPLATE: string;
};

export async function postdeployScript(): Promise<PostdeployModule> {
  return (await import(pathToFileURL(join(INFRA_DIR, 'scripts', 'postdeploy.mjs')).href)) as PostdeployModule;
}

/** `${NAME}` and `${NAME=default}` as azd substitutes them in main.parameters.json. */
export function substitute(text: string, env: Record<string, string | undefined>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:=([^}]*))?\}/g, (_, name: string, fallback?: string) => env[name] || fallback || '');
}

function declaredParams(file: BicepFile): Map<string, { type: string; secure: boolean; generate: boolean; hasDefault: boolean }> {
  const params = new Map<string, { type: string; secure: boolean; generate: boolean; hasDefault: boolean }>();
  let decorators: Node[] = [];
  for (const node of file.root.namedChildren) {
    if (!node) continue;
    if (node.type === 'decorators') {
      decorators = node.namedChildren.filter((d): d is Node => d !== null);
      continue;
    }
    if (node.type === 'parameter_declaration') {
      const parts = node.namedChildren.filter((p): p is Node => p !== null);
      const text = decorators.map((d) => d.text).join('\n');
      params.set(parts[0]!.text, {
        type: parts.find((p) => p.type === 'type')?.text ?? 'any',
        secure: /@secure\(\)/.test(text),
        generate: /type:\s*'generate'/.test(text),
        hasDefault: parts.length > 2,
      });
    }
    decorators = [];
  }
  return params;
}

export async function azdUp(files: Map<string, BicepFile>, input: Record<string, string> = {}): Promise<AzdUp> {
  const env: Record<string, string> = { ...DEFAULT_AZD_ENV, ...input };
  const parametersFile = JSON.parse(substitute(readInfraFile('main.parameters.json'), env)) as { parameters: Record<string, { value: string }> };
  const declared = declaredParams(files.get('main.bicep')!);
  const params: Record<string, Value> = {};
  for (const [name, { value }] of Object.entries(parametersFile.parameters)) {
    const param = declared.get(name);
    if (!param) throw new Error(`main.parameters.json sets '${name}', which main.bicep does not declare`);
    if (value === '' && param.hasDefault) continue;
    if (param.type === 'bool') {
      if (!['true', 'false'].includes(value)) throw new Error(`${name}: '${value}' is not a bool`);
      params[name] = value === 'true';
    } else if (param.type === 'int') {
      if (!/^-?\d+$/.test(value)) throw new Error(`${name}: '${value}' is not an int`);
      params[name] = Number(value);
    } else {
      params[name] = value;
    }
  }
  const generated: Record<string, string> = {};
  for (const [name, param] of declared) {
    if (name in params || param.hasDefault) continue;
    if (!param.generate) throw new Error(`azd would prompt for '${name}': it is neither in main.parameters.json nor generated`);
    generated[name] = randomBytes(36).toString('base64url');
    params[name] = generated[name];
  }
  const main = deploy(files, 'main.bicep', params, { kind: 'subscription', subscriptionId: SUBSCRIPTION_ID });
  for (const [name, value] of Object.entries(main.outputs)) {
    const json = toJson(value);
    env[name] = typeof json === 'string' ? json : typeof json === 'boolean' || typeof json === 'number' ? String(json) : JSON.stringify(json);
  }
  const groups = new Map(main.resources.filter((r) => r.type === 'Microsoft.Resources/resourceGroups').map((r) => [r.name, r.body.location as string]));
  const { landingDeployments, LANDING_TEMPLATE } = await postdeployScript();
  const landing = landingDeployments(env).map((plan) => {
    const group = plan.args[plan.args.indexOf('--resource-group') + 1]!;
    const template = plan.args[plan.args.indexOf('--template-file') + 1]!;
    if (template !== LANDING_TEMPLATE || !template.startsWith('infra/')) throw new Error(`postdeploy deploys ${template}`);
    if (!groups.has(group)) throw new Error(`postdeploy deploys into ${group}, which the provision did not create`);
    return deploy(files, template.slice('infra/'.length), plan.parameters, { kind: 'resourceGroup', subscriptionId: SUBSCRIPTION_ID, resourceGroup: group, location: groups.get(group) });
  });
  const resources = [...allResources(main), ...landing.flatMap(allResources)];
  const sites = resources.filter((r) => r.type === 'Microsoft.Web/sites');
  if (sites.length !== 1) throw new Error(`expected one function app, found ${sites.length}`);
  const appSettings: Record<string, string> = {};
  const list = toJson(((sites[0]!.body.properties as { [k: string]: Value }).siteConfig as { [k: string]: Value }).appSettings as Value) as { name: string; value: unknown }[];
  for (const { name, value } of list) {
    if (name in appSettings) throw new Error(`app setting ${name} is set twice`);
    if (typeof value !== 'string') throw new Error(`app setting ${name} is not a string: ${JSON.stringify(value)}`);
    appSettings[name] = value;
  }
  return { main, landing, resources, env, appSettings, generated };
}
