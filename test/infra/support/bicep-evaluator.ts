import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { Node } from 'web-tree-sitter';
import { decodeEscape, INFRA_DIR, type BicepFile } from './bicep-parser.js';

/**
 * Deploys Bicep on paper: evaluates a parsed file with given parameters the way Azure Resource
 * Manager would (parameters, variables, loops, conditions, modules, lambdas and the functions these
 * templates use), and returns every resource it would create, with its evaluated body, scope and id.
 * Values Azure only knows once a resource exists (an account's endpoint, an identity's ids) get the
 * shape Azure gives them (https://{name}.documents.azure.com:443/, ...). Anything the evaluator does
 * not understand throws, naming the file and line, rather than being skipped; so does reading a
 * property or output that does not exist, as the Bicep compiler would refuse it.
 */

export type Value = null | boolean | number | string | Value[] | { [key: string]: Value } | Special;
type Special = Lambda | ResourceRef | ModuleRef | ScopeRef | Unavailable;

export interface Scope {
  kind: 'subscription' | 'resourceGroup';
  subscriptionId: string;
  resourceGroup?: string;
  /** Location of the resource group. */
  location?: string;
}

export interface SimulatedResource {
  file: string;
  symbol: string;
  line: number;
  type: string;
  apiVersion: string;
  /** Full name (child names joined with '/'). */
  name: string;
  id: string;
  scope: Scope;
  /** Extension resources (role assignments, policy assignments): the id of what they apply to. */
  appliesTo: string;
  existing: boolean;
  /** The body as deployed, without parent, scope and dependsOn. */
  body: { [key: string]: Value };
}

export interface SimulatedDeployment {
  file: string;
  scope: Scope;
  params: Record<string, Value>;
  resources: SimulatedResource[];
  children: SimulatedDeployment[];
  outputs: Record<string, Value>;
}

export const SUBSCRIPTION_ID = '00000000-0000-4000-8000-000000000001';
export const TENANT_ID = '00000000-0000-4000-8000-000000000002';

class Lambda {
  constructor(
    readonly params: string[],
    readonly body: Node,
    readonly env: Env,
    /** The grammar parses `x => x.a` as `(x => x).a`: evaluate `body` with this node read as that. */
    readonly replace?: { id: number; with: Node },
  ) {}
}
class ResourceRef {
  constructor(readonly resource: SimulatedResource) {}
}
class ModuleRef {
  constructor(readonly deployment: SimulatedDeployment) {}
}
class ScopeRef {
  constructor(readonly scope: Scope) {}
}
/** A conditional resource or module whose condition is false. */
class Unavailable {
  constructor(readonly what: string) {}
}

interface Env {
  file: BicepFile;
  scope: Scope;
  files: Map<string, BicepFile>;
  symbols: Map<string, Symbol>;
  locals: Map<string, Value>;
  deployment: SimulatedDeployment;
  replace?: { id: number; with: Node };
}

type Symbol =
  | { kind: 'param'; node: Node; decorators: Node[]; value?: Value; resolved: boolean }
  | { kind: 'var' | 'resource' | 'module'; node: Node; decorators: Node[]; value?: Value; resolved: boolean; resolving?: boolean };

export class BicepError extends Error {}

const fail = (env: Env, node: Node, message: string): never => {
  throw new BicepError(`${env.file.path}:${node.startPosition.row + 1}: ${message}`);
};

const isPlainObject = (value: Value): value is { [key: string]: Value } =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Lambda) && !(value instanceof ResourceRef) && !(value instanceof ModuleRef) && !(value instanceof ScopeRef) && !(value instanceof Unavailable);

const field = (node: Node, name: string) => node.childForFieldName(name);
const named = (node: Node) => node.namedChildren.filter((child): child is Node => child !== null && child.type !== 'comment');

/** Deploys `path` (relative to infra/) with `params` at `scope`. */
export function deploy(files: Map<string, BicepFile>, path: string, params: Record<string, Value>, scope: Scope): SimulatedDeployment {
  const file = files.get(path);
  if (!file) throw new BicepError(`no such Bicep file: ${path}`);
  const deployment: SimulatedDeployment = { file: path, scope, params: {}, resources: [], children: [], outputs: {} };
  const env: Env = { file, scope, files, symbols: new Map(), locals: new Map(), deployment };
  const outputs = new Map<string, Node>();
  let decorators: Node[] = [];
  for (const node of named(file.root)) {
    if (node.type === 'decorators') {
      decorators = named(node);
      continue;
    }
    const kinds: Record<string, Symbol['kind'] | 'output'> = {
      parameter_declaration: 'param',
      variable_declaration: 'var',
      resource_declaration: 'resource',
      module_declaration: 'module',
      output_declaration: 'output',
    };
    const kind = kinds[node.type];
    if (kind === 'output') {
      // Outputs have their own namespace (a module may output `name` and take a `name` parameter).
      const name = named(node)[0]!.text;
      if (outputs.has(name)) fail(env, node, `output '${name}' is declared twice`);
      outputs.set(name, node);
    } else if (kind) {
      const name = named(node)[0]!.text;
      if (env.symbols.has(name)) fail(env, node, `'${name}' is declared twice`);
      env.symbols.set(name, { kind, node, decorators, resolved: false } as Symbol);
    } else if (!['target_scope_assignment', 'metadata_declaration', 'import_statement'].includes(node.type)) {
      fail(env, node, `unsupported declaration ${node.type}`);
    }
    decorators = [];
  }
  const expected = targetScopeOf(file);
  if (expected !== scope.kind) throw new BicepError(`${path} targets ${expected} but is deployed at ${scope.kind} scope`);
  for (const name of Object.keys(params)) {
    if (env.symbols.get(name)?.kind !== 'param') throw new BicepError(`${path} has no parameter '${name}'`);
  }
  for (const [name, symbol] of env.symbols) {
    if (symbol.kind === 'param') {
      symbol.value = name in params ? params[name]! : undefined;
    }
  }
  for (const [name, symbol] of env.symbols) if (symbol.kind === 'param') deployment.params[name] = resolve(env, name, symbol.node);
  for (const [name, symbol] of env.symbols) {
    if (symbol.kind === 'resource' || symbol.kind === 'module' || symbol.kind === 'var') resolve(env, name, symbol.node);
  }
  for (const [name, node] of outputs) deployment.outputs[name] = evaluate(env, lastExpression(node));
  return deployment;
}

export function targetScopeOf(file: BicepFile): Scope['kind'] {
  const assignment = named(file.root).find((node) => node.type === 'target_scope_assignment');
  const value = assignment ? /'(\w+)'/.exec(assignment.text)?.[1] : 'resourceGroup';
  if (value !== 'subscription' && value !== 'resourceGroup') throw new BicepError(`${file.path}: unsupported targetScope ${value}`);
  return value;
}

/** Every resource of a deployment and of its modules, depth first. */
export function allResources(deployment: SimulatedDeployment): SimulatedResource[] {
  return [...deployment.resources, ...deployment.children.flatMap(allResources)];
}

export function allDeployments(deployment: SimulatedDeployment): SimulatedDeployment[] {
  return [deployment, ...deployment.children.flatMap(allDeployments)];
}

function resolve(env: Env, name: string, at: Node): Value {
  const symbol = env.symbols.get(name);
  if (!symbol) return fail(env, at, `'${name}' is not declared`);
  if (symbol.resolved) return symbol.value!;
  if ('resolving' in symbol && symbol.resolving) fail(env, at, `'${name}' refers to itself`);
  if (symbol.kind !== 'param') symbol.resolving = true;
  let value: Value;
  switch (symbol.kind) {
    case 'param':
      value = resolveParam(env, name, symbol);
      break;
    case 'var':
      value = evaluate(env, lastExpression(symbol.node));
      break;
    case 'resource':
      value = declareResource(env, name, symbol.node);
      break;
    case 'module':
      value = declareModule(env, name, symbol.node);
      break;
  }
  symbol.value = value;
  symbol.resolved = true;
  return value;
}

/** The value part of a declaration: its last named child. */
const lastExpression = (node: Node) => named(node).at(-1)!;

function decoratorCalls(env: Env, decorators: Node[]): Map<string, Value[]> {
  const calls = new Map<string, Value[]>();
  for (const decorator of decorators) {
    const call = named(decorator)[0]!;
    if (call.type !== 'call_expression') continue;
    const fn = field(call, 'function')!.text.replace(/^sys\./, '');
    const args = named(field(call, 'arguments')!);
    calls.set(fn, ['description', 'metadata'].includes(fn) ? [] : args.map((arg) => evaluate(env, arg)));
  }
  return calls;
}

function resolveParam(env: Env, name: string, symbol: Symbol): Value {
  const parts = named(symbol.node);
  const type = parts.find((part) => part.type === 'type')?.text ?? 'any';
  const defaultNode = parts.length > 2 ? parts.at(-1)! : undefined;
  let value = symbol.value;
  if (value === undefined) {
    if (!defaultNode) fail(env, symbol.node, `parameter '${name}' has no value and no default`);
    value = evaluate(env, defaultNode!);
  }
  const typeOk: Record<string, (v: Value) => boolean> = {
    string: (v) => typeof v === 'string',
    bool: (v) => typeof v === 'boolean',
    int: (v) => typeof v === 'number' && Number.isInteger(v),
    array: Array.isArray,
    object: isPlainObject,
  };
  if (typeOk[type] && !typeOk[type]!(value)) fail(env, symbol.node, `parameter '${name}' must be ${type}, got ${JSON.stringify(value)}`);
  const decorators = decoratorCalls(env, symbol.decorators);
  const allowed = decorators.get('allowed')?.[0];
  if (Array.isArray(allowed) && !allowed.some((option) => deepEqual(option, value))) fail(env, symbol.node, `parameter '${name}' = ${JSON.stringify(value)} is not one of ${JSON.stringify(allowed)}`);
  const minLength = decorators.get('minLength')?.[0];
  if (typeof minLength === 'number' && (typeof value === 'string' || Array.isArray(value)) && value.length < minLength) fail(env, symbol.node, `parameter '${name}' is shorter than ${minLength}`);
  const maxLength = decorators.get('maxLength')?.[0];
  if (typeof maxLength === 'number' && (typeof value === 'string' || Array.isArray(value)) && value.length > maxLength) fail(env, symbol.node, `parameter '${name}' is longer than ${maxLength}`);
  const minValue = decorators.get('minValue')?.[0];
  if (typeof minValue === 'number' && typeof value === 'number' && value < minValue) fail(env, symbol.node, `parameter '${name}' is below ${minValue}`);
  return value!;
}

/** Resource and module bodies: `= {...}`, `= if (c) {...}`, `= [for ...: {...}]`, `= [for ...: if (c) {...}]`. */
function eachInstance(env: Env, node: Node, make: (env: Env, body: Node, index?: number) => Value): Value {
  const value = lastExpression(node);
  const instance = (innerEnv: Env, body: Node, index?: number): Value => {
    if (body.type === 'if_statement') {
      const [condition, object] = named(body);
      return truthy(innerEnv, condition!, evaluate(innerEnv, condition!)) ? make(innerEnv, object!, index) : new Unavailable(named(node)[0]!.text);
    }
    return make(innerEnv, body, index);
  };
  if (value.type === 'for_statement') {
    return forEach(env, value, (innerEnv, body, index) => instance(innerEnv, body, index));
  }
  return instance(env, value);
}

function declareResource(env: Env, symbol: string, node: Node): Value {
  const typeNode = named(node)[1]!;
  const [type = '', apiVersion = ''] = evaluate(env, typeNode)!.toString().split('@');
  const existing = node.children.some((child) => child?.type === 'existing');
  return eachInstance(env, node, (innerEnv, bodyNode) => {
    if (bodyNode.type !== 'object') fail(innerEnv, bodyNode, 'a resource body must be an object');
    const body = evaluateObject(innerEnv, bodyNode, ['dependsOn']);
    const parent = body.parent;
    const scopeValue = body.scope;
    delete body.parent;
    delete body.scope;
    if (typeof body.name !== 'string') fail(innerEnv, bodyNode, `resource '${symbol}' needs a string name`);
    let name = body.name as string;
    let id: string;
    let appliesTo = '';
    let scope = innerEnv.scope;
    if (parent !== undefined) {
      if (!(parent instanceof ResourceRef)) return fail(innerEnv, bodyNode, `parent of '${symbol}' is not a resource`);
      const parentType = parent.resource.type;
      if (!type.startsWith(`${parentType}/`) || type.split('/').length !== parentType.split('/').length + 1) fail(innerEnv, bodyNode, `'${type}' cannot be a child of '${parentType}'`);
      name = `${parent.resource.name}/${name}`;
      id = `${parent.resource.id}/${type.split('/').at(-1)}/${body.name as string}`;
      scope = parent.resource.scope;
      appliesTo = parent.resource.appliesTo;
    } else if (scopeValue instanceof ResourceRef) {
      appliesTo = scopeValue.resource.id;
      id = `${appliesTo}/providers/${type}/${name}`;
      scope = scopeValue.resource.scope;
    } else if (scopeValue !== undefined) {
      return fail(innerEnv, bodyNode, `unsupported scope of '${symbol}'`);
    } else if (type === 'Microsoft.Resources/resourceGroups') {
      if (innerEnv.scope.kind !== 'subscription') fail(innerEnv, bodyNode, 'resource groups are declared at subscription scope');
      id = `/subscriptions/${innerEnv.scope.subscriptionId}/resourceGroups/${name}`;
    } else if (innerEnv.scope.kind === 'resourceGroup') {
      if (type.startsWith('Microsoft.Authorization/')) appliesTo = groupId(innerEnv.scope);
      id = type.startsWith('Microsoft.Authorization/') ? `${groupId(innerEnv.scope)}/providers/${type}/${name}` : `${groupId(innerEnv.scope)}/providers/${type}/${name}`;
    } else {
      id = `/subscriptions/${innerEnv.scope.subscriptionId}/providers/${type}/${name}`;
    }
    const resource: SimulatedResource = { file: innerEnv.file.path, symbol, line: node.startPosition.row + 1, type, apiVersion, name, id, scope, appliesTo, existing, body };
    innerEnv.deployment.resources.push(resource);
    return new ResourceRef(resource);
  });
}

const groupId = (scope: Scope) => `/subscriptions/${scope.subscriptionId}/resourceGroups/${scope.resourceGroup}`;

function declareModule(env: Env, symbol: string, node: Node): Value {
  const pathNode = named(node)[1]!;
  const relativePath = evaluate(env, pathNode) as string;
  if (/^(br|ts)[:/]/.test(relativePath)) fail(env, node, `module '${symbol}' comes from a registry (${relativePath}); only local modules can be checked`);
  const path = posix.normalize(posix.join(posix.dirname(env.file.path), relativePath));
  return eachInstance(env, node, (innerEnv, bodyNode) => {
    const body = evaluateObject(innerEnv, bodyNode, ['dependsOn']);
    let scope = innerEnv.scope;
    if (body.scope instanceof ResourceRef && body.scope.resource.type === 'Microsoft.Resources/resourceGroups') {
      scope = { kind: 'resourceGroup', subscriptionId: innerEnv.scope.subscriptionId, resourceGroup: body.scope.resource.name, location: body.scope.resource.body.location as string };
    } else if (body.scope instanceof ScopeRef) {
      scope = body.scope.scope;
    } else if (body.scope !== undefined) {
      fail(innerEnv, bodyNode, `unsupported scope of module '${symbol}'`);
    }
    const params = (body.params ?? {}) as Record<string, Value>;
    if (!isPlainObject(params)) fail(innerEnv, bodyNode, 'params must be an object');
    const child = deploy(innerEnv.files, path, params, scope);
    innerEnv.deployment.children.push(child);
    return new ModuleRef(child);
  });
}

function forEach(env: Env, node: Node, each: (env: Env, body: Node, index: number) => Value): Value[] {
  const parts = named(node);
  const body = field(node, 'body') ?? parts.at(-1)!;
  let itemName: string;
  let indexName: string | undefined;
  let sourceNode: Node;
  const parameters = parts.find((part) => part.type === 'for_loop_parameters');
  if (parameters) {
    itemName = named(parameters).find((p) => p.type === 'loop_variable')!.text;
    indexName = named(parameters).find((p) => p.type === 'loop_enumerator')?.text;
    sourceNode = parts[parts.indexOf(parameters) + 1]!;
  } else {
    itemName = (field(node, 'initializer') ?? parts[0]!).text;
    sourceNode = parts[1]!;
  }
  const source = evaluate(env, sourceNode);
  if (!Array.isArray(source)) return fail(env, sourceNode, `a loop needs an array, got ${describe(source)}`);
  return source.map((item, index) => {
    const locals = new Map(env.locals);
    locals.set(itemName, item);
    if (indexName) locals.set(indexName, index);
    return each({ ...env, locals }, body, index);
  });
}

function evaluateObject(env: Env, node: Node, skip: string[] = []): { [key: string]: Value } {
  const result: { [key: string]: Value } = {};
  for (const property of named(node)) {
    if (property.type !== 'object_property') fail(env, property, `unexpected ${property.type} in an object`);
    const [keyNode, valueNode] = named(property);
    const key = keyNode!.type === 'identifier' ? keyNode!.text : evaluate(env, keyNode!);
    if (typeof key !== 'string') fail(env, keyNode!, 'object keys must be strings');
    if (skip.includes(key as string)) continue;
    if ((key as string) in result) fail(env, keyNode!, `duplicate key '${key as string}'`);
    result[key as string] = valueNode!.type === 'for_statement' ? forEach(env, valueNode!, (innerEnv, body) => evaluateLoopBody(innerEnv, body)) : evaluate(env, valueNode!);
  }
  return result;
}

function evaluateLoopBody(env: Env, body: Node): Value {
  if (body.type === 'if_statement') fail(env, body, 'filtered property loops are not supported');
  return evaluate(env, body);
}

/** `x => x.a` is parsed as `(x => x).a`: find such a lambda at the left end of an expression. */
function leftmostLambda(node: Node): Node | undefined {
  let current: Node | null = node;
  while (current) {
    if (current.type === 'lambda_expression') return current === node ? undefined : current;
    if (current.type === 'member_expression' || current.type === 'subscript_expression') current = field(current, 'object');
    else if (current.type === 'binary_expression') current = field(current, 'left');
    else if (current.type === 'ternary_expression') current = field(current, 'condition');
    else return undefined;
  }
  return undefined;
}

function lambdaParams(node: Node): string[] {
  const first = named(node)[0]!;
  if (first.type === 'identifier') return [first.text];
  if (first.type === 'parenthesized_expression') return named(first).map((p) => p.text);
  return [];
}

export function evaluate(env: Env, original: Node): Value {
  const node = env.replace && original.id === env.replace.id ? env.replace.with : original;
  const misparsed = leftmostLambda(node);
  if (misparsed && misparsed.id !== env.replace?.id) {
    return new Lambda(lambdaParams(misparsed), node, env, { id: misparsed.id, with: named(misparsed).at(-1)! });
  }
  switch (node.type) {
    case 'string':
      return evaluateString(env, node);
    case 'number':
      return Number(node.text);
    case 'boolean':
      return node.text === 'true';
    case 'null':
      return null;
    case 'array':
      return named(node).map((element) => (element.type === 'for_statement' ? forEach(env, element, (e, b) => evaluateLoopBody(e, b)) : evaluate(env, element)));
    case 'object':
      return evaluateObject(env, node);
    case 'for_statement':
      return forEach(env, node, (innerEnv, body) => evaluateLoopBody(innerEnv, body));
    case 'parenthesized_expression':
      return evaluate(env, named(node)[0]!);
    case 'identifier':
      return identifier(env, node);
    case 'member_expression':
      return member(env, node);
    case 'subscript_expression':
      return subscript(env, node);
    case 'call_expression':
      return call(env, node);
    case 'lambda_expression':
      return new Lambda(lambdaParams(node), named(node).at(-1)!, env);
    case 'unary_expression':
      return unary(env, node);
    case 'binary_expression':
      return binary(env, node);
    case 'ternary_expression': {
      const condition = field(node, 'condition')!;
      return truthy(env, condition, evaluate(env, condition)) ? evaluate(env, field(node, 'consequence')!) : evaluate(env, field(node, 'alternative')!);
    }
    default:
      return fail(env, node, `unsupported expression ${node.type}: ${node.text.slice(0, 60)}`);
  }
}

function evaluateString(env: Env, node: Node): string {
  // '''multi-line''' strings start after the first line break and keep escapes as written.
  if (node.text.startsWith("'''")) return node.text.slice(3, -3).replace(/^\r?\n/, '');
  // The grammar leaves white space between a string's parts out of the tree (a lone ' ' has no
  // string_content): read the source between the parts.
  const source = env.file.source;
  let text = '';
  let cursor = node.startIndex + 1;
  for (const part of named(node)) {
    text += source.slice(cursor, part.startIndex);
    if (part.type === 'string_content') text += part.text;
    else if (part.type === 'escape_sequence') text += decodeEscape(part.text);
    else if (part.type === 'interpolation') text += stringify(env, part, evaluate(env, named(part)[0]!));
    else fail(env, part, `unsupported string part ${part.type}`);
    cursor = part.endIndex;
  }
  return text + source.slice(cursor, node.endIndex - 1);
}

function stringify(env: Env, at: Node, value: Value): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return '';
  if (value instanceof ResourceRef || value instanceof ModuleRef || value instanceof Lambda || value instanceof ScopeRef || value instanceof Unavailable) return fail(env, at, `cannot put ${describe(value)} in a string`);
  return JSON.stringify(value);
}

function identifier(env: Env, node: Node): Value {
  const name = node.text;
  if (env.locals.has(name)) return env.locals.get(name)!;
  if (env.symbols.has(name)) {
    return resolve(env, name, node);
  }
  if (name === 'az' || name === 'sys') return name;
  return fail(env, node, `'${name}' is not declared`);
}

function safeAccess(node: Node): boolean {
  return node.children.some((child) => child?.type === '.?' || child?.type === '?');
}

function member(env: Env, node: Node): Value {
  const objectNode = field(node, 'object')!;
  const property = field(node, 'property')!.text;
  const object = evaluate(env, objectNode);
  return readProperty(env, node, object, property, safeAccess(node));
}

function subscript(env: Env, node: Node): Value {
  const object = evaluate(env, field(node, 'object')!);
  const index = evaluate(env, field(node, 'index')!);
  if (Array.isArray(object)) {
    if (typeof index !== 'number') return fail(env, node, 'an array index must be a number');
    if (index < 0 || index >= object.length) return safeAccess(node) ? null : fail(env, node, `index ${index} is out of range (length ${object.length})`);
    return object[index]!;
  }
  if (typeof index !== 'string') return fail(env, node, 'a property name must be a string');
  return readProperty(env, node, object, index, safeAccess(node));
}

function readProperty(env: Env, node: Node, object: Value, property: string, safe: boolean): Value {
  if (object === null && safe) return null;
  if (object instanceof Unavailable) return fail(env, node, `'${object.what}' is not deployed (its condition is false)`);
  if (object instanceof ResourceRef) return resourceProperty(env, node, object.resource, property);
  if (object instanceof ModuleRef) {
    if (property === 'outputs') return object.deployment.outputs;
    if (property === 'name') return object.deployment.file;
    return fail(env, node, `a module has no '${property}'`);
  }
  if (object instanceof ScopeRef) {
    const scope = object.scope;
    const values: Record<string, Value> = { id: scope.kind === 'resourceGroup' ? groupId(scope) : `/subscriptions/${scope.subscriptionId}`, name: scope.resourceGroup ?? '', location: scope.location ?? '', subscriptionId: scope.subscriptionId, tenantId: TENANT_ID };
    if (property in values) return values[property]!;
    return fail(env, node, `a scope has no '${property}'`);
  }
  if (isPlainObject(object)) {
    // ARM compares property names without regard to case.
    const key = property in object ? property : Object.keys(object).find((k) => k.toLowerCase() === property.toLowerCase());
    if (key === undefined) return safe ? null : fail(env, node, `no property '${property}' (has ${Object.keys(object).join(', ') || 'none'})`);
    return object[key]!;
  }
  if (Array.isArray(object) && property === 'length') return fail(env, node, 'use length() for arrays');
  return fail(env, node, `cannot read '${property}' of ${describe(object)}`);
}

/** What Azure reports of a resource once it exists, in the shapes Azure uses. */
export function runtimeProperties(resource: SimulatedResource): { [key: string]: Value } {
  const name = resource.name.split('/').at(-1)!;
  const location = (resource.body.location as string | undefined) ?? resource.scope.location ?? '';
  switch (resource.type) {
    case 'Microsoft.ManagedIdentity/userAssignedIdentities':
      return { principalId: fakeGuid(`principal:${resource.id}`), clientId: fakeGuid(`client:${resource.id}`), tenantId: TENANT_ID };
    case 'Microsoft.DocumentDB/databaseAccounts':
      return { documentEndpoint: `https://${name}.documents.azure.com:443/` };
    case 'Microsoft.Storage/storageAccounts':
      return { primaryEndpoints: Object.fromEntries(['blob', 'queue', 'table', 'file', 'dfs', 'web'].map((service) => [service, `https://${name}.${service}.core.windows.net/`])) };
    case 'Microsoft.EventGrid/topics':
      return { endpoint: `https://${name}.${location}-1.eventgrid.azure.net/api/events` };
    case 'Microsoft.Insights/components':
      return { ConnectionString: `InstrumentationKey=${fakeGuid(resource.id)};IngestionEndpoint=https://${location}.in.applicationinsights.azure.com/;ApplicationId=${fakeGuid(`app:${resource.id}`)}`, InstrumentationKey: fakeGuid(resource.id) };
    case 'Microsoft.Web/sites':
      return { defaultHostName: `${name}.azurewebsites.net` };
    default:
      return {};
  }
}

function resourceProperty(env: Env, node: Node, resource: SimulatedResource, property: string): Value {
  switch (property) {
    case 'id':
      return resource.id;
    case 'name':
      return resource.name.split('/').at(-1)!;
    case 'type':
      return resource.type;
    case 'apiVersion':
      return resource.apiVersion;
    case 'location':
      if (typeof resource.body.location === 'string') return resource.body.location;
      return fail(env, node, `resource '${resource.symbol}' has no location`);
    case 'properties': {
      const declared = isPlainObject(resource.body.properties ?? null) ? (resource.body.properties as { [key: string]: Value }) : {};
      return { ...declared, ...runtimeProperties(resource) };
    }
    default:
      if (property in resource.body) return resource.body[property]!;
      return fail(env, node, `resource '${resource.symbol}' has no '${property}'`);
  }
}

function unary(env: Env, node: Node): Value {
  const operator = field(node, 'operator')!.type;
  const argument = evaluate(env, field(node, 'argument')!);
  if (operator === '!') return !truthy(env, node, argument);
  if (operator === '-' && typeof argument === 'number') return -argument;
  return fail(env, node, `unsupported unary ${operator}`);
}

function binary(env: Env, node: Node): Value {
  const operator = field(node, 'operator')!.type;
  const leftNode = field(node, 'left')!;
  const rightNode = field(node, 'right')!;
  const left = evaluate(env, leftNode);
  if (operator === '&&') return truthy(env, leftNode, left) && truthy(env, rightNode, evaluate(env, rightNode));
  if (operator === '||') return truthy(env, leftNode, left) || truthy(env, rightNode, evaluate(env, rightNode));
  if (operator === '??') return left === null ? evaluate(env, rightNode) : left;
  const right = evaluate(env, rightNode);
  switch (operator) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    case '=~':
      return String(left).toLowerCase() === String(right).toLowerCase();
    case '!~':
      return String(left).toLowerCase() !== String(right).toLowerCase();
  }
  if (typeof left !== 'number' || typeof right !== 'number') return fail(env, node, `'${operator}' needs numbers`);
  switch (operator) {
    case '+':
      return left + right;
    case '-':
      return left - right;
    case '*':
      return left * right;
    case '/':
      return Math.trunc(left / right);
    case '%':
      return left % right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '>=':
      return left >= right;
  }
  return fail(env, node, `unsupported operator ${operator}`);
}

function truthy(env: Env, node: Node, value: Value): boolean {
  if (typeof value !== 'boolean') return fail(env, node, `a condition must be true or false, got ${describe(value)}`);
  return value;
}

function callLambda(env: Env, at: Node, fn: Value, args: Value[]): Value {
  if (!(fn instanceof Lambda)) return fail(env, at, 'expected a lambda');
  const locals = new Map(fn.env.locals);
  fn.params.forEach((param, i) => locals.set(param, args[i] ?? null));
  return evaluate({ ...fn.env, locals, replace: fn.replace ?? fn.env.replace }, fn.body);
}

function call(env: Env, node: Node): Value {
  const fnNode = field(node, 'function')!;
  const argNodes = named(field(node, 'arguments')!);
  let name: string;
  if (fnNode.type === 'identifier') name = fnNode.text;
  else if (fnNode.type === 'member_expression' && ['az', 'sys'].includes(field(fnNode, 'object')!.text)) name = field(fnNode, 'property')!.text;
  else return fail(env, node, `unsupported call ${fnNode.text}`);
  if (name === 'loadJsonContent' || name === 'loadTextContent') {
    const relativePath = evaluate(env, argNodes[0]!) as string;
    const text = readFileSync(join(INFRA_DIR, dirname(env.file.path), relativePath), 'utf8');
    return name === 'loadTextContent' ? text : (JSON.parse(text) as Value);
  }
  const args = argNodes.map((arg) => evaluate(env, arg));
  const str = (i: number) => {
    const value = args[i];
    if (typeof value !== 'string') return fail(env, node, `${name}: argument ${i + 1} must be a string, got ${describe(value ?? null)}`);
    return value;
  };
  const arr = (i: number) => {
    const value = args[i];
    if (!Array.isArray(value)) return fail(env, node, `${name}: argument ${i + 1} must be an array, got ${describe(value ?? null)}`);
    return value;
  };
  switch (name) {
    case 'toLower':
      return str(0).toLowerCase();
    case 'toUpper':
      return str(0).toUpperCase();
    case 'trim':
      return str(0).trim();
    case 'replace':
      return str(0).split(str(1)).join(str(2));
    case 'split':
      return str(0).split(str(1));
    case 'join':
      return arr(0).map((v) => stringify(env, node, v)).join(str(1));
    case 'startsWith':
      return str(0).toLowerCase().startsWith(str(1).toLowerCase());
    case 'endsWith':
      return str(0).toLowerCase().endsWith(str(1).toLowerCase());
    case 'contains': {
      const container = args[0]!;
      if (typeof container === 'string') return container.includes(str(1));
      if (Array.isArray(container)) return container.some((v) => deepEqual(v, args[1]!));
      if (isPlainObject(container)) return str(1) in container;
      return fail(env, node, 'contains needs a string, array or object');
    }
    case 'empty': {
      const value = args[0]!;
      if (value === null) return true;
      if (typeof value === 'string' || Array.isArray(value)) return value.length === 0;
      if (isPlainObject(value)) return Object.keys(value).length === 0;
      return fail(env, node, 'empty needs a string, array or object');
    }
    case 'length': {
      const value = args[0]!;
      if (typeof value === 'string' || Array.isArray(value)) return value.length;
      if (isPlainObject(value)) return Object.keys(value).length;
      return fail(env, node, 'length needs a string, array or object');
    }
    case 'take': {
      const value = args[0]!;
      const count = args[1] as number;
      if (typeof value === 'string' || Array.isArray(value)) return value.slice(0, Math.max(0, count));
      return fail(env, node, 'take needs a string or array');
    }
    case 'first':
      return (arr(0)[0] ?? null) as Value;
    case 'last':
      return (arr(0).at(-1) ?? null) as Value;
    case 'indexOf': {
      const container = args[0]!;
      if (typeof container === 'string') return container.toLowerCase().indexOf(str(1).toLowerCase());
      if (Array.isArray(container)) return container.findIndex((v) => deepEqual(v, args[1]!));
      return fail(env, node, 'indexOf needs a string or array');
    }
    case 'range':
      return Array.from({ length: args[1] as number }, (_, i) => (args[0] as number) + i);
    case 'concat':
      if (args.every(Array.isArray)) return args.flatMap((a) => a as Value[]);
      return args.map((a) => stringify(env, node, a)).join('');
    case 'flatten':
      return arr(0).flatMap((inner) => {
        if (!Array.isArray(inner)) return fail(env, node, 'flatten needs an array of arrays');
        return inner;
      });
    case 'union':
      if (args.every(Array.isArray)) {
        const result: Value[] = [];
        for (const value of args.flatMap((a) => a as Value[])) if (!result.some((r) => deepEqual(r, value))) result.push(value);
        return result;
      }
      if (args.every(isPlainObject)) return args.reduce<{ [key: string]: Value }>((acc, next) => deepMerge(acc, next as { [key: string]: Value }), {});
      return fail(env, node, 'union needs all arrays or all objects');
    case 'map':
      return arr(0).map((item, i) => callLambda(env, node, args[1]!, [item, i]));
    case 'filter':
      return arr(0).filter((item, i) => truthy(env, node, callLambda(env, node, args[1]!, [item, i])));
    case 'reduce':
      return arr(0).reduce<Value>((acc, item, i) => callLambda(env, node, args[2]!, [acc, item, i]), args[1]!);
    case 'toObject':
      return Object.fromEntries(arr(0).map((item) => [callLambda(env, node, args[1]!, [item]) as string, args[2] ? callLambda(env, node, args[2], [item]) : item]));
    case 'items': {
      const object = args[0]!;
      if (!isPlainObject(object)) return fail(env, node, 'items needs an object');
      return Object.entries(object).map(([key, value]) => ({ key, value }));
    }
    case 'string':
      return stringify(env, node, args[0]!);
    case 'int':
      return Number(args[0]);
    case 'bool':
      return args[0] === true || args[0] === 'true';
    case 'uniqueString':
      return uniqueString(args.map((_, i) => str(i)));
    case 'guid':
      return fakeGuid(args.map((_, i) => str(i)).join('|'));
    case 'subscription':
      return { id: `/subscriptions/${env.scope.subscriptionId}`, subscriptionId: env.scope.subscriptionId, tenantId: TENANT_ID, displayName: 'simulated' };
    case 'tenant':
      return { tenantId: TENANT_ID };
    case 'deployer':
      return { objectId: fakeGuid('deployer'), tenantId: TENANT_ID };
    case 'environment':
      return {
        name: 'AzureCloud',
        suffixes: { storage: 'core.windows.net', sqlServerHostname: '.database.windows.net' },
        resourceManager: 'https://management.azure.com/',
        authentication: { loginEndpoint: 'https://login.microsoftonline.com/' },
      };
    case 'resourceGroup': {
      if (args.length === 0) {
        if (env.scope.kind !== 'resourceGroup') return fail(env, node, 'resourceGroup() outside a resource group deployment');
        return new ScopeRef(env.scope);
      }
      return new ScopeRef({ kind: 'resourceGroup', subscriptionId: env.scope.subscriptionId, resourceGroup: str(args.length - 1) });
    }
    case 'subscriptionResourceId':
      return `/subscriptions/${env.scope.subscriptionId}/providers/${str(0)}/${args.slice(1).map((_, i) => str(i + 1)).join('/')}`;
    case 'tenantResourceId':
      return `/providers/${str(0)}/${args.slice(1).map((_, i) => str(i + 1)).join('/')}`;
    case 'resourceId':
      if (env.scope.kind !== 'resourceGroup') return fail(env, node, 'resourceId() outside a resource group deployment');
      return `${groupId(env.scope)}/providers/${str(0)}/${args.slice(1).map((_, i) => str(i + 1)).join('/')}`;
    default:
      return fail(env, node, `unsupported function ${name}()`);
  }
}

function deepMerge(a: { [key: string]: Value }, b: { [key: string]: Value }): { [key: string]: Value } {
  const result = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = result[key];
    result[key] = existing !== undefined && isPlainObject(existing) && isPlainObject(value) ? deepMerge(existing, value) : value;
  }
  return result;
}

export function deepEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]!));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k]!, b[k]!));
  }
  return false;
}

function describe(value: Value): string {
  if (value instanceof ResourceRef) return `resource ${value.resource.symbol}`;
  if (value instanceof ModuleRef) return `module ${value.deployment.file}`;
  if (value instanceof Lambda) return 'a lambda';
  if (value instanceof ScopeRef) return 'a scope';
  if (value instanceof Unavailable) return `'${value.what}' (not deployed)`;
  return JSON.stringify(value) ?? String(value);
}

/** A stand-in for ARM's uniqueString: 13 lower-case characters, stable for the same input. */
function uniqueString(parts: string[]): string {
  const digest = createHash('sha256').update(parts.join('|')).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  let out = '';
  for (let i = 0; i < 13; i++) out += alphabet[digest[i]! % 32];
  return out;
}

function fakeGuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Plain JSON of a value (resources as their ids), for outputs and app settings. */
export function toJson(value: Value): unknown {
  if (value instanceof ResourceRef) return value.resource.id;
  if (value instanceof Lambda || value instanceof ModuleRef || value instanceof ScopeRef || value instanceof Unavailable) return `<${describe(value)}>`;
  if (Array.isArray(value)) return value.map(toJson);
  if (isPlainObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  return value;
}
