import { createRequire } from 'node:module';
import type Module from 'node:module';

/**
 * The `@azure/functions-core` module that the real Node.js worker provides to `@azure/functions`.
 * Installing it makes `require('@azure/functions-core')` resolve to this object, so function files
 * register through the real `app.*` API and know nothing of the development host.
 */
export interface RpcBindingInfo {
  type?: string;
  direction?: 'in' | 'out' | 'inout';
  [key: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export interface CoreInvocationContext {
  invocationId: string;
  request: Record<string, unknown>;
  metadata: { name: string; bindings: Record<string, RpcBindingInfo> };
  state?: 'preInvocationHooks' | 'postInvocationHooks' | 'invocation';
  log(level: string, category: string, message: string): void;
}

export interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<{ returnValue?: Record<string, unknown> | null; outputData?: unknown[] | null }>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(coreContext: CoreInvocationContext): InvocationModel;
  getCapabilities?(capabilities: Record<string, string>): Promise<Record<string, string>>;
}

type HookCallback = (context: Record<string, unknown>) => unknown;

export interface Disposable {
  dispose(): void;
}

export type WorkerLogSink = (level: string, category: string, message: string) => void;

/**
 * What the function files of one folder registered when they were imported: their functions, their
 * hooks, and the programming model of the `@azure/functions` they use. In Azure a worker process holds
 * one app; here one process may serve several folders one after another (the test files share
 * processes), each with its own app and its own instance of `@azure/functions` (the deployment package
 * bundles one; the test fixtures load one each, test/fixtures/functions-library.ts).
 */
export class FunctionApp {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, HookCallback[]>();
  programmingModel?: ProgrammingModel;

  async runHooks(hookName: string, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks.get(hookName) ?? []) await hook(context);
  }
}

export class FunctionsCoreShim {
  /** The app whose files are being imported: what they register goes into it. */
  #loading = new FunctionApp();
  /** The app of each folder, loaded once per process (its files' modules are imported once). */
  readonly #apps = new Map<string, Promise<FunctionApp>>();
  #queue: Promise<unknown> = Promise.resolve();
  logSink: WorkerLogSink = () => undefined;

  /** The object `require('@azure/functions-core')` returns. */
  readonly module = {
    version: '3.0.0',
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable => {
      const { functions } = this.#loading;
      if (functions.has(metadata.name)) {
        throw new Error(`A function named "${metadata.name}" is already registered.`);
      }
      functions.set(metadata.name, { metadata, callback });
      return { dispose: () => functions.delete(metadata.name) };
    },
    registerHook: (hookName: string, callback: HookCallback): Disposable => {
      const { hooks } = this.#loading;
      hooks.set(hookName, [...(hooks.get(hookName) ?? []), callback]);
      return { dispose: () => hooks.set(hookName, (hooks.get(hookName) ?? []).filter((c) => c !== callback)) };
    },
    setProgrammingModel: (model: ProgrammingModel): void => {
      this.#loading.programmingModel = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.#loading.programmingModel,
    log: (level: string, category: string, message: string): void => this.logSink(level, category, message),
    Disposable: class {
      constructor(private readonly callOnDispose: () => void) {}
      static from(...items: { dispose?: () => void }[]) {
        return { dispose: () => items.forEach((item) => item.dispose?.()) };
      }
      dispose() {
        this.callOnDispose();
      }
    },
  };

  /**
   * The app of the function files in `dir`, imported by `importFiles` the first time (one folder at a
   * time: registrations go to the folder being imported).
   */
  load(dir: string, importFiles: () => Promise<unknown>): Promise<FunctionApp> {
    let app = this.#apps.get(dir);
    if (!app) {
      app = this.#queue.then(() => this.#import(dir, importFiles));
      this.#queue = app.catch(() => undefined);
      // A folder whose files failed to import stays failed in this process: its modules that did load
      // are cached and would not register again.
      this.#apps.set(dir, app);
    }
    return app;
  }

  async #import(dir: string, importFiles: () => Promise<unknown>): Promise<FunctionApp> {
    const app = new FunctionApp();
    this.#loading = app;
    try {
      await importFiles();
    } finally {
      this.#loading = new FunctionApp();
    }
    // `@azure/functions` sets its programming model once per instance, at its first registration, and
    // keeps its setup per instance: each folder served in one process needs an instance of its own.
    if (app.functions.size > 0 && !app.programmingModel) {
      throw new Error(`The function files in ${dir} set no programming model: the @azure/functions they use was already used by another folder in this process`);
    }
    return app;
  }
}

let installed: FunctionsCoreShim | undefined;

/**
 * Installs the shim once per process (the functions register into it when their files are
 * imported, and module state is per process, as in the real worker).
 */
export function installFunctionsCore(): FunctionsCoreShim {
  if (installed) return installed;
  const shim = new FunctionsCoreShim();
  const require = createRequire(import.meta.url);
  const ModuleClass = require('node:module') as typeof Module & {
    _load: (request: string, parent: unknown, isMain: boolean) => unknown;
  };
  const originalLoad = ModuleClass._load;
  ModuleClass._load = function load(request: string, parent: unknown, isMain: boolean) {
    if (request === '@azure/functions-core') return shim.module;
    return originalLoad.call(this, request, parent, isMain);
  };
  installed = shim;
  return shim;
}
