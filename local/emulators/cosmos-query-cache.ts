import { createRequire } from 'node:module';

/** How many query texts (and generated functions) stay compiled before the cache starts over. */
const MAX_COMPILED = 5_000;

type Compile = ((sql: string) => unknown) & { cached?: boolean };
type Execute = (collection: unknown, options: { code: string } & Record<string, unknown>) => unknown;

/**
 * The emulator's query engine (@zeit/cosmosdb-query) parses a query's text with a PEG parser, turns
 * it into JavaScript with Babel, and compiles that with `new Function` at every execution; the
 * server parses each single-partition query once more to check it names the partition key. A profile
 * of the test suite found about 2% of its CPU there, for the same few hundred query texts over and
 * over. After this patch a query text is parsed and generated once, and generated code compiled
 * once: `compile(sql)` answers the same (immutable) query object for the same text, and the executor
 * reuses the function it compiled for the same code. Results are unchanged: both are pure functions
 * of their text. Applied once per process.
 */
export function cacheCompiledQueries(): void {
  const require = createRequire(createRequire(import.meta.url).resolve('@vercel/cosmosdb-server'));
  const index = require('@zeit/cosmosdb-query/lib/index.js') as { default: Compile };
  if (index.default.cached) return;
  const compile = index.default;
  const queries = new Map<string, unknown>();
  index.default = Object.assign(
    (sql: string) => {
      let query = queries.get(sql);
      if (query === undefined) {
        query = compile(sql);
        if (queries.size >= MAX_COMPILED) queries.clear();
        queries.set(sql, query);
      }
      return query;
    },
    { cached: true },
  );

  const executor = require('@zeit/cosmosdb-query/lib/executor.js') as { default: Execute };
  const [aggregateFunctions, builtinFunctions, helpers] = ['aggregate-functions', 'builtin-functions', 'helpers'].map((name) => require(`@zeit/cosmosdb-query/lib/${name}.js`) as unknown);
  const functions = new Map<string, (...args: unknown[]) => unknown>();
  // As the original executor (lib/executor.js), but with the compiled function kept per code.
  executor.default = (collection, { code, parameters, udf = {}, maxItemCount, continuation, compositeIndexes }) => {
    let execute = functions.get(code);
    if (!execute) {
      execute = new Function(`"use strict";return (${code})`)() as (...args: unknown[]) => unknown;
      if (functions.size >= MAX_COMPILED) functions.clear();
      functions.set(code, execute);
    }
    const params: Record<string, unknown> = {};
    for (const { name, value } of (parameters as { name: string; value: unknown }[] | undefined) ?? []) params[name.slice(1)] = value;
    return execute(aggregateFunctions, builtinFunctions, collection, helpers, udf, params, maxItemCount, continuation, compositeIndexes);
  };
}
