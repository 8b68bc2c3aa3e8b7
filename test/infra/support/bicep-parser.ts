import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Language, Parser, type Node } from 'web-tree-sitter';

/**
 * Parses Bicep with the tree-sitter grammar (tree-sitter-bicep's WebAssembly build, run by
 * web-tree-sitter): no Bicep compiler is needed, and none can be installed offline. The grammar knows
 * Bicep's syntax, not its types: errors it reports are syntax errors; everything else the tests check
 * by evaluating the parse tree (bicep-evaluator.ts).
 */
export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const INFRA_DIR = join(REPO_ROOT, 'infra');

export interface BicepFile {
  /** Path relative to infra/, with forward slashes (e.g. `geo/geography.bicep`). */
  path: string;
  source: string;
  root: Node;
}

export interface SyntaxProblem {
  path: string;
  line: number;
  column: number;
  text: string;
  kind: 'ERROR' | 'MISSING';
}

let parser: Parser | undefined;

async function bicepParser(): Promise<Parser> {
  if (parser) return parser;
  await Parser.init();
  const require = createRequire(import.meta.url);
  const language = await Language.load(readFileSync(join(require.resolve('tree-sitter-bicep/package.json'), '..', 'tree-sitter-bicep.wasm')));
  parser = new Parser();
  parser.setLanguage(language);
  return parser;
}

export async function parseBicep(path: string, source: string): Promise<BicepFile> {
  const tree = (await bicepParser()).parse(source);
  if (!tree) throw new Error(`${path}: the parser returned no tree`);
  return { path, source, root: tree.rootNode };
}

/** Every .bicep file under infra/, relative paths. */
export function bicepPaths(dir = INFRA_DIR): string[] {
  const found: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.bicep')) found.push(relative(INFRA_DIR, full).split('\\').join('/'));
    }
  };
  walk(dir);
  return found.sort();
}

/** infra/'s sources (optionally with some replaced, for the breakage tests), parsed. */
export async function parseInfra(overrides: Record<string, string> = {}): Promise<Map<string, BicepFile>> {
  const files = new Map<string, BicepFile>();
  for (const path of bicepPaths()) {
    const source = overrides[path] ?? readFileSync(join(INFRA_DIR, path), 'utf8');
    files.set(path, await parseBicep(path, source));
  }
  return files;
}

export const readInfraFile = (path: string) => readFileSync(join(INFRA_DIR, path), 'utf8');

/** Syntax errors and missing tokens the grammar recovered from. */
export function syntaxProblems(file: BicepFile): SyntaxProblem[] {
  const problems: SyntaxProblem[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing) {
      problems.push({ path: file.path, line: node.startPosition.row + 1, column: node.startPosition.column + 1, text: node.text.slice(0, 80), kind: node.isMissing ? 'MISSING' : 'ERROR' });
      if (node.isError) return;
    }
    for (const child of node.children) if (child) visit(child);
  };
  visit(file.root);
  return problems;
}

/** Every resource declaration of a file: symbol, type, API version, whether `existing`. */
export function resourceDeclarations(file: BicepFile): { symbol: string; type: string; apiVersion: string; existing: boolean; line: number }[] {
  return file.root.namedChildren
    .filter((node): node is Node => node?.type === 'resource_declaration')
    .map((node) => {
      const typeString = node.namedChildren.find((child) => child?.type === 'string');
      const [type = '', apiVersion = ''] = (typeString ? stringLiteral(typeString) : '').split('@');
      return {
        symbol: node.namedChildren[0]?.text ?? '',
        type,
        apiVersion,
        existing: node.children.some((child) => child?.type === 'existing'),
        line: node.startPosition.row + 1,
      };
    });
}

/** A string without interpolation, unquoted (escape sequences decoded). */
export function stringLiteral(node: Node): string {
  let text = '';
  for (const part of node.namedChildren) {
    if (!part) continue;
    if (part.type === 'string_content') text += part.text;
    else if (part.type === 'escape_sequence') text += decodeEscape(part.text);
    else throw new Error(`line ${node.startPosition.row + 1}: expected a string without interpolation: ${node.text}`);
  }
  return text;
}

export function decodeEscape(sequence: string): string {
  const simple: Record<string, string> = { "\\'": "'", '\\\\': '\\', '\\n': '\n', '\\r': '\r', '\\t': '\t', '\\$': '$' };
  if (sequence in simple) return simple[sequence]!;
  const unicode = /^\\u\{([0-9a-fA-F]+)\}$/.exec(sequence);
  if (unicode) return String.fromCodePoint(parseInt(unicode[1]!, 16));
  throw new Error(`unknown escape sequence ${sequence}`);
}

/** Every string literal of a file (content of strings without interpolation, and the literal parts of the others). */
export function stringFragments(file: BicepFile): { text: string; line: number }[] {
  const fragments: { text: string; line: number }[] = [];
  const visit = (node: Node) => {
    if (node.type === 'string_content') fragments.push({ text: node.text, line: node.startPosition.row + 1 });
    for (const child of node.children) if (child) visit(child);
  };
  visit(file.root);
  return fragments;
}
