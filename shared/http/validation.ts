import type * as z from 'zod';
import { ServiceError } from '../errors/service-error.js';

/** Parses a value with a zod schema; a failure is a 400 ValidationError naming the first bad field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what = 'request body'): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => {
    const target = issue.path.length > 0 ? issue.path.join('.') : undefined;
    return { code: 'InvalidField', message: target ? `${target}: ${issue.message}` : issue.message, target };
  });
  const first = details[0]!;
  throw new ServiceError('ValidationError', `Invalid ${what}: ${first.message}`, {
    target: first.target,
    details: details.map(({ target, ...rest }) => (target ? { ...rest, target } : rest)),
  });
}
