import { z } from 'zod';

/**
 * Query and path parameters arrive as strings. These schemas accept exactly the strings their
 * OpenAPI form allows: `z.coerce.number()` would turn `?limit=` (the empty string) into 0 and
 * `?limit=1e2` into 100, accepting what the document says is not an integer.
 */

/** An integer from `min` to `max`, written in decimal (`?limit=` and `?limit=1e2` are refused). */
export function integerParam(min: number, max: number) {
  return z.preprocess(
    (value) => (typeof value === 'string' && /^-?(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : value),
    z.int().min(min).max(max),
  );
}

/** A non-empty filter value of at most `max` characters, without the NUL character (PostgreSQL refuses it). */
export function filterParam(max = 253) {
  return (
    z
      .string()
      .min(1)
      .max(max)
      // eslint-disable-next-line no-control-regex -- NUL is the character refused
      .regex(/^[^\u0000]+$/, 'must not contain the NUL character (U+0000)')
  );
}
