import type { z } from 'zod';
import { ValidationError, type FieldIssue } from './errors.ts';

/** zod issues as `path: message` pairs with dotted paths (`steps.0.params.replicas`). */
export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/**
 * Parses `value` or throws a {@link ValidationError} naming every bad field. Whatever the
 * schema's own code throws on a malformed value (a refinement reading a field that failed to
 * parse, a stack overflow on a deeply nested value) is also a ValidationError: a value that
 * cannot be validated is invalid input, never a server error.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  let result: z.ZodSafeParseResult<z.output<S>>;
  try {
    result = schema.safeParse(value);
  } catch (err) {
    throw new ValidationError(what, [
      { path: '', message: `cannot be validated: ${err instanceof Error ? err.message : String(err)}` },
    ]);
  }
  if (!result.success) throw new ValidationError(what, fieldIssues(result.error));
  return result.data;
}
