import { createRequire } from 'node:module';

interface PatchInput {
  id: string;
  partitionKey: string;
  condition?: string;
}
interface EmulatorCollection {
  document(id: string, partition: unknown): { read(): unknown };
}
type PatchOperationFn = (collection: EmulatorCollection, input: PatchInput) => { statusCode: number; body: unknown };
interface CompiledQuery {
  exec(items: unknown[], options: { parameters: { name: string; value: unknown }[] }): { result: unknown[] };
}

/** How many filter shapes stay compiled before the cache starts over. */
const MAX_COMPILED = 10_000;

/**
 * cosmosdb-server lower-cases a conditional patch's filter before evaluating it, so field names in
 * camelCase (`c.deletedOn`) never match and string literals are compared lower-cased: every such
 * condition is silently true. Cosmos evaluates the filter as written. The emulator does too after
 * this patch: the filter is evaluated as written against the one item the patch names (not run as a
 * query over the partition), and the original handler then applies the operations without a
 * condition. Filters differ mostly in their literals (a thread's sender, a roster version), so each
 * is compiled once per shape, its literals passed as parameters (`liftLiterals`). Applied once per
 * process.
 */
export function keepPatchConditionsCase(): void {
  const require = createRequire(import.meta.url);
  const module = require('@vercel/cosmosdb-server/lib/handler/_patch-operations.js') as { patchOperation: PatchOperationFn & { caseKept?: boolean } };
  const original = module.patchOperation;
  if (original.caseKept) return;
  const { parsePartitionKey } = require('@vercel/cosmosdb-server/lib/utils/get-partition-from-header.js') as { parsePartitionKey(header: string, id: string): unknown };
  const compile = (createRequire(require.resolve('@vercel/cosmosdb-server'))('@zeit/cosmosdb-query') as { default: (sql: string) => CompiledQuery }).default;
  const compiled = new Map<string, CompiledQuery>();
  const invalid = { statusCode: 400, body: { code: 'BadRequest', message: 'Invalid condition in patch request.' } };
  const patched: PatchOperationFn & { caseKept?: boolean } = (collection, input) => {
    if (!input.condition) return original(collection, input);
    const prefix = /^\s*from\s+c\s+where\s+/i;
    if (!prefix.test(input.condition)) return invalid;
    const clause = input.condition.replace(prefix, '');
    let document: unknown;
    try {
      document = collection.document(input.id, parsePartitionKey(input.partitionKey, input.id)).read();
    } catch {
      return original(collection, { ...input, condition: undefined });
    }
    // A missing item is a 404 before any condition, as the original handler answers.
    if (!document) return original(collection, { ...input, condition: undefined });
    let matches: number;
    try {
      const { shape, parameters } = liftLiterals(clause);
      let query = compiled.get(shape);
      if (!query) {
        query = compile(`SELECT VALUE c.id FROM c WHERE (${shape})`);
        if (compiled.size >= MAX_COMPILED) compiled.clear();
        compiled.set(shape, query);
      }
      matches = query.exec([document], { parameters }).result.length;
    } catch {
      return invalid;
    }
    if (matches === 0) return { statusCode: 412, body: { code: 'PreconditionFailed', message: 'Condition specified in the patch request is not satisfied.' } };
    return original(collection, { ...input, condition: undefined });
  };
  patched.caseKept = true;
  module.patchOperation = patched;
}

/**
 * A filter's double-quoted string literals and plain decimal numbers, replaced by parameters
 * (`@literal0`, ...) with their values: `c.rosterVersion = 7 AND ARRAY_CONTAINS(c.roster, "8:acs:x")`
 * has the shape `c.rosterVersion = @literal0 AND ARRAY_CONTAINS(c.roster, @literal1)`. A parameter is
 * compared as the literal is, so the shape gives the same answer for every item. Anything else stays
 * as written: single-quoted strings, numbers with an exponent or next to a letter, digits or a dot,
 * array indexes (`c.a[0]`), and a string that is not valid JSON (the compile then refuses it, as
 * before).
 */
export function liftLiterals(clause: string): { shape: string; parameters: { name: string; value: unknown }[] } {
  const parameters: { name: string; value: unknown }[] = [];
  const literal = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|(?<![\w.$@[\]])\d+(?:\.\d+)?(?![\w.])/g;
  const shape = clause.replace(literal, (token) => {
    if (token.startsWith("'")) return token;
    let value: unknown;
    try {
      value = JSON.parse(token);
    } catch {
      return token;
    }
    const name = `@literal${parameters.length}`;
    parameters.push({ name, value });
    return name;
  });
  return { shape, parameters };
}
