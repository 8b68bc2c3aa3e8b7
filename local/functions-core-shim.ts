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

export class FunctionsCoreShim {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly hooks = new Map<string, HookCallback[]>();
  programmingModel?: ProgrammingModel;
  logSink: WorkerLogSink = () => undefined;

  /** The object `require('@azure/functions-core')` returns. */
  readonly module = {
    version: '3.0.0',
    registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback): Disposable => {
      if (this.functions.has(metadata.name)) {
        throw new Error(`A function named "${metadata.name}" is already registered.`);
      }
      this.functions.set(metadata.name, { metadata, callback });
      return { dispose: () => this.functions.delete(metadata.name) };
    },
    registerHook: (hookName: string, callback: HookCallback): Disposable => {
      const list = this.hooks.get(hookName) ?? [];
      list.push(callback);
      this.hooks.set(hookName, list);
      return { dispose: () => this.hooks.set(hookName, (this.hooks.get(hookName) ?? []).filter((c) => c !== callback)) };
    },
    setProgrammingModel: (model: ProgrammingModel): void => {
      this.programmingModel = model;
    },
    getProgrammingModel: (): ProgrammingModel | undefined => this.programmingModel,
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

  async runHooks(hookName: string, context: Record<string, unknown>): Promise<void> {
    for (const hook of this.hooks.get(hookName) ?? []) await hook(context);
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
