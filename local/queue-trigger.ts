import { setTimeout as sleep } from 'node:timers/promises';
import type { RegisteredFunction } from './functions-core-shim.js';
import { triggerBinding, type FunctionInvoker, type RpcTypedData } from './function-invoker.js';
import { QueueRequestError, type QueueMessage, type QueueServiceClient } from './queue-client.js';
import { queueClient, queueName, type QueueIdentityAccess } from './queue-binding.js';
import { MIN_POLLING_INTERVAL_MS, type QueueSettings } from './queue-settings.js';

/**
 * Runs queue-triggered functions (`app.storageQueue`) as the Functions host's queue listener does:
 * each function polls its queue (randomized exponential backoff from 100 ms up to
 * `maxPollingInterval` while it is empty, 100 ms after a poll that found messages), fetches up to
 * `batchSize` messages and runs them concurrently, fetches again once no more than
 * `newBatchThreshold` are in progress, keeps a message invisible while its function runs, deletes
 * it after a successful run, makes it visible again after `visibilityTimeout` after a failed one,
 * and moves it to `<queue>-poison` once it has failed `maxDequeueCount` times.
 */
const PROCESSING_VISIBILITY_S = 600; // the host's 10 minutes, renewed at half time while the function runs

export interface QueueTriggerOptions {
  /** Identity-based connections (`<connection>__queueServiceUri`): the credential and trusted certificates. */
  identity?: QueueIdentityAccess;
  /**
   * How long a message stays invisible while its function runs (renewed at half time): the host's
   * 10 minutes. Tests shorten it, so the messages of a host that was killed come back soon.
   */
  processingVisibilitySeconds?: number;
}

interface QueueListener {
  fn: RegisteredFunction;
  bindingName: string;
  queue: string;
  poisonQueue: string;
  client: QueueServiceClient;
  inFlight: Set<Promise<void>>;
  /** Ends the current wait between polls (see `wake`). */
  wake?: () => void;
  loop?: Promise<void>;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The trigger metadata the host passes with a queue message (the worker camel-cases the names). */
function triggerMetadata(message: QueueMessage, text: string): Record<string, RpcTypedData> {
  return {
    QueueTrigger: { string: text },
    DequeueCount: { json: String(message.dequeueCount) },
    Id: { string: message.id },
    PopReceipt: { string: message.popReceipt },
    InsertionTime: { string: message.insertionTime.toISOString() },
    ExpirationTime: { string: message.expirationTime.toISOString() },
    NextVisibleTime: { string: message.nextVisibleTime.toISOString() },
  };
}

export class QueueTriggers {
  readonly #listeners: QueueListener[] = [];
  #abort = new AbortController();
  /** Successful runs per function (for tests: which instance did what). */
  readonly completed = new Map<string, number>();
  /** Of those, runs of messages delivered before (a dequeue count above 1). */
  readonly redelivered = new Map<string, number>();
  /** Runs in their function now (not yet deleting or releasing their message), by function name (for tests: an instance killed with work in hand). */
  readonly invoking = new Map<string, number>();
  readonly #visibilityS: number;

  constructor(
    private readonly invoker: FunctionInvoker,
    private readonly env: Record<string, string | undefined>,
    private readonly settings: QueueSettings,
    private readonly log: (line: string) => void,
    private readonly options: QueueTriggerOptions = {},
  ) {
    this.#visibilityS = options.processingVisibilitySeconds ?? PROCESSING_VISIBILITY_S;
  }

  /**
   * Polls the named queues now instead of at the end of their backoff (the test stack's `idle` wakes
   * those holding messages after the app enqueued work, as the host polls at once after its own
   * output bindings enqueued).
   */
  wake(queues: ReadonlySet<string>): void {
    for (const listener of this.#listeners) if (queues.has(listener.queue)) listener.wake?.();
  }

  /**
   * The polled queues that hold messages (visible or not, as the queue service counts them). One
   * listing per account first: a queue that does not exist holds nothing and is not asked for its count.
   */
  async queuesWithMessages(): Promise<Set<string>> {
    const byAccount = new Map<string, { client: QueueServiceClient; queues: string[] }>();
    for (const { queue, client } of this.#listeners) {
      const account = byAccount.get(client.accountUrl) ?? { client, queues: [] };
      account.queues.push(queue);
      byAccount.set(client.accountUrl, account);
    }
    const holding = new Set<string>();
    await Promise.all(
      [...byAccount.values()].map(async ({ client, queues }) => {
        // A listing that fails leaves every queue to be counted.
        const existing = await client.queueNames().catch(() => undefined);
        const counted = [...new Set(queues)].filter((queue) => existing?.has(queue) ?? true);
        await Promise.all(counted.map(async (queue) => ((await client.approximateCount(queue).catch(() => 0)) > 0 ? holding.add(queue) : undefined)));
      }),
    );
    return holding;
  }

  /** Resolves every queue function's queue and connection (an invalid one fails start-up, as in the host) and starts polling. */
  start(functions: RegisteredFunction[]): void {
    const listeners: QueueListener[] = [];
    for (const fn of functions) {
      const [bindingName, binding] = triggerBinding(fn);
      if (binding.type?.toLowerCase() !== 'queuetrigger') continue;
      const queue = queueName(binding, this.env, fn.metadata.name);
      const client = queueClient(binding, this.env, this.options.identity);
      listeners.push({ fn, bindingName, queue, poisonQueue: `${queue}-poison`, client, inFlight: new Set() });
    }
    this.#abort = new AbortController();
    for (const listener of listeners) {
      this.#listeners.push(listener);
      listener.loop = this.#poll(listener, this.#abort.signal);
    }
  }

  /** Stops polling and waits for the messages in progress (whose functions finish, as on a host shutdown). */
  async stop(): Promise<void> {
    this.#abort.abort();
    const listeners = this.#listeners.splice(0);
    await Promise.all(listeners.map((l) => l.loop));
    await Promise.all(listeners.flatMap((l) => [...l.inFlight]));
  }

  async #poll(listener: QueueListener, signal: AbortSignal): Promise<void> {
    const { batchSize, newBatchThreshold, maxPollingIntervalMs } = this.settings;
    let interval = MIN_POLLING_INTERVAL_MS;
    let lastError = '';
    while (!signal.aborted) {
      if (listener.inFlight.size > newBatchThreshold) {
        await Promise.race(listener.inFlight);
        continue;
      }
      let messages: QueueMessage[] = [];
      try {
        messages = await listener.client.receiveMessages(listener.queue, batchSize, this.#visibilityS);
        lastError = '';
      } catch (error) {
        // A queue that does not exist yet is an empty queue (the host does not create trigger queues).
        const text = error instanceof QueueRequestError && error.code === 'QueueNotFound' ? `queue '${listener.queue}' does not exist yet` : errorText(error);
        if (text !== lastError) this.log(`[${listener.fn.metadata.name}] ${text}; polling on`);
        lastError = text;
      }
      if (signal.aborted) {
        // Stopped while fetching: the messages are released at once rather than left invisible.
        await Promise.all(messages.map((m) => listener.client.updateVisibility(listener.queue, m.id, m.popReceipt, 0).catch(() => undefined)));
        break;
      }
      for (const message of messages) {
        const run = this.#process(listener, message).finally(() => listener.inFlight.delete(run));
        listener.inFlight.add(run);
      }
      if (messages.length > 0) {
        interval = MIN_POLLING_INTERVAL_MS;
      } else {
        // Randomized exponential backoff (doubling, +/-20%), capped at maxPollingInterval.
        interval = Math.min(maxPollingIntervalMs, interval * 2 * (0.8 + Math.random() * 0.4));
      }
      // The wait ends early when the host stops or someone wakes the listener.
      const pause = new AbortController();
      const stop = () => pause.abort();
      listener.wake = stop;
      signal.addEventListener('abort', stop, { once: true });
      const woken = await sleep(messages.length > 0 ? MIN_POLLING_INTERVAL_MS : interval, false, { signal: pause.signal, ref: false }).catch(() => true);
      signal.removeEventListener('abort', stop);
      if (woken) interval = MIN_POLLING_INTERVAL_MS;
    }
  }

  async #process(listener: QueueListener, message: QueueMessage): Promise<void> {
    const name = listener.fn.metadata.name;
    const { maxDequeueCount, visibilityTimeoutMs } = this.settings;
    try {
      const text = this.#decode(message.text);
      if (text === undefined || message.dequeueCount > maxDequeueCount) {
        const why = text === undefined ? 'is not base64 (messageEncoding)' : `was dequeued ${message.dequeueCount} times`;
        return await this.#poison(listener, message, message.popReceipt, why);
      }
      const renewal = this.#keepInvisible(listener, message);
      let failure: unknown;
      this.invoking.set(name, (this.invoking.get(name) ?? 0) + 1);
      try {
        await this.invoker.invoke(listener.fn, {
          inputData: [{ name: listener.bindingName, data: { string: text } }],
          triggerMetadata: triggerMetadata(message, text),
        });
      } catch (error) {
        failure = error ?? new Error('failed');
      } finally {
        this.invoking.set(name, this.invoking.get(name)! - 1);
      }
      const popReceipt = await renewal.stop();
      if (failure === undefined) {
        await listener.client.deleteMessage(listener.queue, message.id, popReceipt);
        this.completed.set(name, (this.completed.get(name) ?? 0) + 1);
        if (message.dequeueCount > 1) this.redelivered.set(name, (this.redelivered.get(name) ?? 0) + 1);
        return;
      }
      this.log(`[${name}] failed on message ${message.id} (dequeue count ${message.dequeueCount}): ${errorText(failure)}`);
      if (message.dequeueCount >= maxDequeueCount) return await this.#poison(listener, message, popReceipt, `failed ${message.dequeueCount} times`);
      await listener.client.updateVisibility(listener.queue, message.id, popReceipt, Math.ceil(visibilityTimeoutMs / 1000));
    } catch (error) {
      this.log(`[${name}] message ${message.id} of queue '${listener.queue}': ${errorText(error)}`);
    }
  }

  #decode(text: string): string | undefined {
    if (this.settings.messageEncoding === 'none') return text;
    if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
    return Buffer.from(text, 'base64').toString('utf8');
  }

  /** Copies the message (same text) to the poison queue, creating it if needed, and deletes it from its queue. */
  async #poison(listener: QueueListener, message: QueueMessage, popReceipt: string, why: string): Promise<void> {
    await listener.client.createQueue(listener.poisonQueue);
    await listener.client.sendMessage(listener.poisonQueue, message.text);
    await listener.client.deleteMessage(listener.queue, message.id, popReceipt);
    this.log(`[${listener.fn.metadata.name}] message ${message.id} ${why}: moved to '${listener.poisonQueue}'`);
  }

  /** Renews the message's invisibility at half time while its function runs; stop() returns the current pop receipt. */
  #keepInvisible(listener: QueueListener, message: QueueMessage): { stop(): Promise<string> } {
    let popReceipt = message.popReceipt;
    let pending = Promise.resolve();
    const renew = async () => {
      try {
        popReceipt = await listener.client.updateVisibility(listener.queue, message.id, popReceipt, this.#visibilityS);
      } catch (error) {
        this.log(`[${listener.fn.metadata.name}] could not keep message ${message.id} invisible: ${errorText(error)}`);
      }
    };
    const timer = setInterval(() => (pending = pending.then(renew)), (this.#visibilityS * 1000) / 2);
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await pending;
        return popReceipt;
      },
    };
  }
}
