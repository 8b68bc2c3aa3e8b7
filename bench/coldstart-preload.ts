import { installFunctionsCore } from '../local/functions-core-shim.js';

/**
 * Preloaded (`node --import`) into both sides of the cold-start benchmark: the stand-in for the
 * `@azure/functions-core` module the Node.js worker provides in Azure (the development host's shim),
 * installed before the app is imported, so both sides pay the same for it and neither times it.
 */
installFunctionsCore();
