// Lets a child process of the tests run the TypeScript sources the tests run (node --import ./ts-loader.mjs):
// `.js` specifiers of the sources resolve to their `.ts` files, which esbuild strips of their types.
// Not used by `npm start` or the benchmarks, which run the built files in dist/.
import { register } from 'node:module';

register('./ts-loader-hooks.mjs', import.meta.url);
