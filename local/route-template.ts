/**
 * Route templates as the Functions host parses them (ASP.NET Core rules): literal segments match
 * case-insensitively; `{name}` matches one segment; `{name:int}` etc. add constraints; `{name?}`
 * is optional; `{*name}` (or `{**name}`) catches the rest of the path; a segment may mix literals and
 * parameters (`{file}.json`). Among routes that match, the most specific wins: literal segments
 * before mixed ones, before constrained parameters, before plain ones, before catch-alls.
 */
interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  constraints: string[];
  defaultValue?: string;
}

type Part = { kind: 'literal'; text: string } | ({ kind: 'param' } & Param);

export interface CompiledRoute {
  template: string;
  regex: RegExp;
  params: Param[];
  /** Per-segment precedence, lower is more specific. */
  precedence: number[];
}

const CONSTRAINTS: Record<string, (value: string) => boolean> = {
  int: (v) => /^-?\d+$/.test(v) && Math.abs(Number(v)) <= 2 ** 31,
  long: (v) => /^-?\d+$/.test(v),
  bool: (v) => /^(true|false)$/i.test(v),
  guid: (v) => /^\{?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}\}?$/i.test(v),
  alpha: (v) => /^[a-z]+$/i.test(v),
  double: (v) => v.trim() !== '' && !Number.isNaN(Number(v)),
  float: (v) => v.trim() !== '' && !Number.isNaN(Number(v)),
  decimal: (v) => v.trim() !== '' && !Number.isNaN(Number(v)),
  datetime: (v) => !Number.isNaN(Date.parse(v)),
};

function checkConstraint(constraint: string, value: string): boolean {
  const call = /^(\w+)(?:\((.*)\))?$/.exec(constraint);
  if (!call) throw new Error(`Unsupported route constraint '${constraint}'`);
  const [, name, arg] = call;
  const n = Number(arg);
  switch (name!.toLowerCase()) {
    case 'min': return Number(value) >= n;
    case 'max': return Number(value) <= n;
    case 'minlength': return value.length >= n;
    case 'maxlength': return value.length <= n;
    case 'length': {
      const [a, b] = (arg ?? '').split(',').map(Number);
      return b === undefined ? value.length === a : value.length >= a! && value.length <= b;
    }
    case 'range': {
      const [a, b] = (arg ?? '').split(',').map(Number);
      return Number(value) >= a! && Number(value) <= b!;
    }
    case 'regex': return new RegExp(arg ?? '', 'i').test(value);
    default: {
      const check = CONSTRAINTS[name!.toLowerCase()];
      if (!check) throw new Error(`Unsupported route constraint '${constraint}'`);
      return check(value);
    }
  }
}

function parseParam(body: string): Param {
  let text = body;
  let catchAll = false;
  if (text.startsWith('**')) [catchAll, text] = [true, text.slice(2)];
  else if (text.startsWith('*')) [catchAll, text] = [true, text.slice(1)];
  let defaultValue: string | undefined;
  const eq = text.indexOf('=');
  if (eq >= 0) [text, defaultValue] = [text.slice(0, eq), text.slice(eq + 1)];
  let optional = false;
  if (text.endsWith('?')) [optional, text] = [true, text.slice(0, -1)];
  const [name, ...constraints] = splitConstraints(text);
  if (!name || !/^[A-Za-z_][\w]*$/.test(name)) throw new Error(`Invalid route parameter '{${body}}'`);
  return { name, optional: optional || defaultValue !== undefined, catchAll, constraints, defaultValue };
}

/** Splits `name:regex(a:b):int` on colons outside parentheses. */
function splitConstraints(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth += 1;
    if (ch === ')') depth -= 1;
    if (ch === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  return parts;
}

function parseSegment(segment: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  let literal = '';
  while (i < segment.length) {
    const ch = segment[i]!;
    if (ch === '{' && segment[i + 1] === '{') [literal, i] = [literal + '{', i + 2];
    else if (ch === '}' && segment[i + 1] === '}') [literal, i] = [literal + '}', i + 2];
    else if (ch === '{') {
      const end = segment.indexOf('}', i);
      if (end < 0) throw new Error(`Unbalanced '{' in route segment '${segment}'`);
      if (literal) parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push({ kind: 'param', ...parseParam(segment.slice(i + 1, end)) });
      i = end + 1;
    } else if (ch === '}' || ch === '?') {
      throw new Error(`Invalid character '${ch}' in route segment '${segment}'`);
    } else [literal, i] = [literal + ch, i + 1];
  }
  if (literal) parts.push({ kind: 'literal', text: literal });
  return parts;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function compileRoute(template: string): CompiledRoute {
  const trimmed = template.replace(/^\/+|\/+$/g, '');
  const segments = trimmed === '' ? [] : trimmed.split('/');
  const params: Param[] = [];
  const precedence: number[] = [];
  let pattern = '^';
  segments.forEach((segment, index) => {
    const parts = parseSegment(segment);
    const only = parts.length === 1 ? parts[0]! : undefined;
    if (only?.kind === 'param' && (only.optional || only.catchAll)) {
      if (only.catchAll && index !== segments.length - 1) throw new Error(`A catch-all parameter must be last in '${template}'`);
      params.push(only);
      precedence.push(only.catchAll ? 5 : 4);
      const inner = only.catchAll ? '(.*)' : '([^/]+)';
      pattern += index === 0 ? `(?:${inner})?` : `(?:/${inner})?`;
      return;
    }
    let segmentPattern = '';
    for (const part of parts) {
      if (part.kind === 'literal') segmentPattern += escape(part.text);
      else {
        params.push(part);
        segmentPattern += parts.length > 1 ? '([^/]+?)' : '([^/]+)';
      }
    }
    precedence.push(
      only?.kind === 'literal' ? 1 : parts.length > 1 ? 2 : only && only.kind === 'param' && only.constraints.length > 0 ? 3 : 4,
    );
    pattern += (index === 0 ? '' : '/') + segmentPattern;
  });
  pattern += '/?$';
  return { template, regex: new RegExp(pattern, 'i'), params, precedence };
}

/** Matches a request path (no query, no route prefix, no leading slash); params are URL-decoded. */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const match = route.regex.exec(path.replace(/^\/+/, ''));
  if (!match) return undefined;
  const values: Record<string, string> = {};
  for (let i = 0; i < route.params.length; i += 1) {
    const param = route.params[i]!;
    const raw = match[i + 1];
    if (raw === undefined || raw === '') {
      if (param.defaultValue !== undefined) values[param.name] = param.defaultValue;
      continue;
    }
    let value: string;
    try {
      value = param.catchAll ? raw.split('/').map(decodeURIComponent).join('/') : decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (!param.constraints.every((c) => checkConstraint(c, value))) return undefined;
    values[param.name] = value;
  }
  return values;
}

/** Orders routes most specific first. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i += 1) {
    const pa = a.precedence[i] ?? 0;
    const pb = b.precedence[i] ?? 0;
    if (pa !== pb) return pa - pb;
  }
  return b.precedence.length - a.precedence.length;
}
