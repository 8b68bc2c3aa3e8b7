import type * as z from 'zod';
import type { Logger } from '../telemetry/logger.js';
import { parseWorkItem } from './work-items.js';

/**
 * The body of a queue-triggered function: the message parsed with its zod schema, then the work. A
 * malformed item or a failure is logged (the item's kind and the error, no values) and thrown, so
 * the host retries it and, after maxDequeueCount attempts, moves it to the poison queue. Nothing
 * here can take the host down: the host catches what a function throws.
 */
export interface QueueInvocation {
  invocationId: string;
  triggerMetadata?: Record<string, unknown>;
}

export function workHandler<T>(
  name: string,
  schema: z.ZodType<T>,
  logger: () => Logger,
  work: (item: T) => Promise<unknown>,
): (message: unknown, context: QueueInvocation) => Promise<void> {
  return async (message, context) => {
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 0);
    let item: T;
    try {
      item = parseWorkItem(schema, message);
    } catch (error) {
      logger().error(`${name}.malformed_work_item`, { correlationId: context.invocationId, count: dequeueCount, detail: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    try {
      await work(item);
    } catch (error) {
      logger().warn(`${name}.work_item_failed`, {
        correlationId: context.invocationId,
        count: dequeueCount,
        errorName: error instanceof Error ? error.name : typeof error,
        detail: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
  };
}

/**
 * The body of a poison queue's function: records an item that failed on every attempt. A malformed
 * one cannot be recorded anywhere: it is logged (without its text) and dropped.
 */
export function poisonHandler<T>(name: string, schema: z.ZodType<T>, logger: () => Logger, record: (item: T) => Promise<unknown> | void): (message: unknown, context: QueueInvocation) => Promise<void> {
  return async (message, context) => {
    let item: T;
    try {
      item = parseWorkItem(schema, message);
    } catch (error) {
      logger().error(`${name}.malformed_poison_item`, { correlationId: context.invocationId, detail: `${error instanceof Error ? error.message : String(error)} Dropped.` });
      return;
    }
    await record(item);
  };
}
