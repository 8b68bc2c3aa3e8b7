import type { RegisteredFunction } from './functions-core-shim.js';
import type { InvocationResult, RpcTypedData } from './function-invoker.js';
import { queueClient, queueName, type QueueIdentityAccess } from './queue-binding.js';
import type { QueueSettings } from './queue-settings.js';

/**
 * Storage queue output bindings (`output.storageQueue`, binding type `queue`), flushed after a
 * successful invocation as the host does: a string is one message, an array one message per
 * element, anything else its JSON; text is base64-encoded unless `messageEncoding` is none; the
 * queue is created when it does not exist. A send that fails fails the invocation.
 */
type Typed = RpcTypedData & { int?: number; double?: number };

function messages(data: Typed | null | undefined): string[] {
  if (data === null || data === undefined) return [];
  if (data.string !== undefined) return [data.string];
  if (data.bytes !== undefined) return [Buffer.from(data.bytes).toString('utf8')];
  if (data.int !== undefined || data.double !== undefined) return [String(data.int ?? data.double)];
  if (data.json !== undefined) {
    const value = JSON.parse(data.json) as unknown;
    const items = Array.isArray(value) ? value : [value];
    return items.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
  }
  return [];
}

export class QueueOutputs {
  readonly #created = new Set<string>();

  constructor(
    private readonly env: Record<string, string | undefined>,
    private readonly settings: QueueSettings,
    private readonly identity?: QueueIdentityAccess,
  ) {}

  /** Sends the messages of the function's queue output bindings. */
  async send(fn: RegisteredFunction, result: InvocationResult): Promise<void> {
    for (const [name, binding] of Object.entries(fn.metadata.bindings)) {
      if (binding.direction !== 'out' || binding.type?.toLowerCase() !== 'queue') continue;
      const data = name === '$return' ? result.returnValue : (result.outputData as { name: string; data: Typed }[] | null | undefined)?.find((o) => o.name === name)?.data;
      const texts = messages(data as Typed | null | undefined);
      if (texts.length === 0) continue;
      const queue = queueName(binding, this.env, fn.metadata.name);
      const client = queueClient(binding, this.env, this.identity);
      const key = `${client.accountUrl}/${queue}`;
      if (!this.#created.has(key)) {
        await client.createQueue(queue);
        this.#created.add(key);
      }
      for (const text of texts) {
        await client.sendMessage(queue, this.settings.messageEncoding === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text);
      }
    }
  }
}
