import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.ts';

/** zod issues as `path: message` pairs with dotted paths (`steps.0.params.replicas`). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses `value` or throws a {@link ValidationError} naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new ValidationError(what, fieldIssues(result.error));
  return result.data;
}
