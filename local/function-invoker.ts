import { randomUUID } from 'node:crypto';
import type { FunctionApp, RegisteredFunction, RpcBindingInfo } from './functions-core-shim.js';

/**
 * Invokes a registered function the way the real Node.js worker does: through the programming
 * model's InvocationModel (getArguments, preInvocation hooks, invokeFunction, postInvocation hooks,
 * getResponse), with the RPC shapes the Functions host sends.
 */
export interface RpcTypedData {
  string?: string;
  json?: string;
  bytes?: Uint8Array;
  http?: Record<string, unknown>;
}

export interface InvocationRequest {
  inputData: { name: string; data: RpcTypedData }[];
  triggerMetadata?: Record<string, RpcTypedData>;
}

export interface InvocationResult {
  invocationId: string;
  returnValue?: Record<string, unknown> | null;
  outputData?: unknown[] | null;
}

export type FunctionLog = (functionName: string, invocationId: string, level: string, message: string) => void;

export function triggerBinding(fn: RegisteredFunction): [string, RpcBindingInfo] {
  const found = Object.entries(fn.metadata.bindings).find(([, b]) => /trigger$/i.test(b.type ?? ''));
  if (!found) throw new Error(`Function ${fn.metadata.name} has no trigger binding`);
  return found;
}

export class FunctionInvoker {
  #capabilities?: Promise<Record<string, string>>;
  /** Flushes a successful invocation's output bindings (the host's part); one that throws fails the invocation. */
  flushOutputs?: (fn: RegisteredFunction, result: InvocationResult) => Promise<void>;

  constructor(
    private readonly app: FunctionApp,
    private readonly log: FunctionLog,
  ) {}

  /** Asks the programming model for its capabilities once (this locks `app.setup`, as in Azure). */
  capabilities(): Promise<Record<string, string>> {
    this.#capabilities ??= (async () => {
      const model = this.app.programmingModel;
      if (!model) return {};
      return model.getCapabilities ? model.getCapabilities({}) : {};
    })();
    return this.#capabilities;
  }

  /** The worker's HTTP proxy, when the app enabled HTTP streaming. */
  async httpStreamUri(): Promise<string | undefined> {
    return (await this.capabilities()).HttpUri;
  }

  async invoke(fn: RegisteredFunction, request: InvocationRequest, invocationId: string = randomUUID()): Promise<InvocationResult> {
    const model = this.app.programmingModel;
    if (!model) throw new Error('No programming model was registered: the app did not load @azure/functions');
    await this.capabilities();
    const name = fn.metadata.name;
    const coreContext = {
      invocationId,
      request: { invocationId, functionId: name, ...request },
      metadata: { name, bindings: fn.metadata.bindings },
      state: undefined as undefined | 'preInvocationHooks' | 'postInvocationHooks' | 'invocation',
      log: (level: string, _category: string, message: string) => this.log(name, invocationId, level, message),
    };
    const invocationModel = model.getInvocationModel(coreContext);
    const { context, inputs } = await invocationModel.getArguments();
    const hookData: Record<string, unknown> = {};

    coreContext.state = 'preInvocationHooks';
    const pre = { hookData, appHookData: {}, invocationContext: context, inputs, functionCallback: fn.callback };
    await this.app.runHooks('preInvocation', pre);

    coreContext.state = 'invocation';
    let result: unknown;
    let error: unknown;
    try {
      result = await invocationModel.invokeFunction(context, pre.inputs, pre.functionCallback);
    } catch (caught) {
      error = caught;
    }

    coreContext.state = 'postInvocationHooks';
    const post = { hookData, appHookData: {}, invocationContext: context, inputs: pre.inputs, result, error };
    await this.app.runHooks('postInvocation', post);
    coreContext.state = undefined;
    if (post.error) throw post.error;

    const response = await invocationModel.getResponse(context, post.result);
    const invocationResult = { invocationId, returnValue: response.returnValue, outputData: response.outputData };
    await this.flushOutputs?.(fn, invocationResult);
    return invocationResult;
  }
}
