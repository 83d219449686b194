import { z } from 'zod';

/**
 * The string primitives every boundary schema builds on. A string that reaches PostgreSQL
 * (`text`, `jsonb`) or a Kubernetes object must be one those systems store as written:
 * PostgreSQL refuses U+0000 in `text` and `jsonb` (SQLSTATE 22P05) and a lone UTF-16
 * surrogate in `jsonb` (22P02), and silently replaces it in `text`. A request that carries
 * one is refused with a 400 naming the field, instead of poisoning the workflow that would
 * later try to store it.
 */

/** Upper bound of a free-form string when its schema names none. @default 4096 */
export const DEFAULT_TEXT_MAX_LENGTH = 4096;

// Without the `u` flag a regular expression sees UTF-16 code units, so a high surrogate not
// followed by a low one, or a low one not preceded by a high one, is found as such.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// eslint-disable-next-line no-control-regex -- matching NUL is the point
const NO_NUL = /^[^\u0000]*$/;
const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
const SURROGATE_MESSAGE = 'must not contain a lone UTF-16 surrogate (not valid Unicode)';

/**
 * Why `value` cannot be stored as written, or `undefined` when it can.
 *
 * @example storableTextProblem('a\u0000b') // 'must not contain the NUL character (U+0000)'
 */
export function storableTextProblem(value: string): string | undefined {
  if (!NO_NUL.test(value)) return NUL_MESSAGE;
  if (LONE_SURROGATE.test(value)) return SURROGATE_MESSAGE;
  return undefined;
}

/**
 * `value` with what {@link storableTextProblem} refuses replaced by U+FFFD: for text Sentinel
 * writes itself from what it did not choose (an error message quoting refused input).
 */
export function toStorableText(value: string): string {
  return value.replace(new RegExp(`\u0000|${LONE_SURROGATE.source}`, 'g'), '\uFFFD');
}

/** Options of {@link text}. */
export interface TextOptions {
  /** Shortest length accepted. @default 0 */
  min?: number;
  /** Longest length accepted. @default {@link DEFAULT_TEXT_MAX_LENGTH} */
  max?: number;
}

/**
 * A free-form string that PostgreSQL and the Kubernetes apiserver store as written: no NUL,
 * no lone surrogate, bounded length. Every free-form string of a plan, rollout or policy
 * schema is one of these.
 */
export function text(options: TextOptions = {}): z.ZodString {
  const { min = 0, max = DEFAULT_TEXT_MAX_LENGTH } = options;
  // NUL as a pattern, so that the OpenAPI document says it; a lone surrogate cannot be
  // written as a JSON Schema pattern and is checked by code.
  const schema = z.string().max(max).regex(NO_NUL, NUL_MESSAGE);
  return (min > 0 ? schema.min(min) : schema).check((ctx) => {
    if (LONE_SURROGATE.test(ctx.value))
      ctx.issues.push({ code: 'custom', message: SURROGATE_MESSAGE, input: ctx.value });
  });
}

/** A Kubernetes name that must be an RFC 1123 label (namespaces, cluster names). */
export const dnsLabel = z
  .string()
  .min(1)
  .max(63)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a lowercase RFC 1123 label (a-z, 0-9, "-")');

/** A Kubernetes object name that must be an RFC 1123 subdomain (Deployments, StatefulSets). */
export const dnsSubdomain = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a lowercase RFC 1123 subdomain',
  );

// Written as single patterns (not refinements) so that the OpenAPI document states them too.
const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const DNS_SUBDOMAIN = '[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*';

/** A label (or annotation, or node selector) key: `name` or `prefix/name`, as Kubernetes validates it. */
export const labelKey = z
  .string()
  .max(317)
  .regex(
    new RegExp(`^(?:(?=[^/]{1,253}/)${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`),
    'must be a Kubernetes label key: [prefix/]name, name of up to 63 of A-Z a-z 0-9 - _ .',
  );

/** A label value: empty, or up to 63 of A-Z a-z 0-9 - _ . starting and ending alphanumeric. */
export const labelValue = z
  .string()
  .max(63)
  .regex(new RegExp(`^(?:${LABEL_NAME})?$`), 'must be a Kubernetes label value');

/**
 * A container environment variable name as the apiserver accepts it: printable ASCII
 * without `=`, at most 256 characters here.
 */
export const envVarName = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x20-\x3c\x3e-\x7e]+$/, 'must be printable ASCII without "="');

/** A container environment variable value. @default max 32768 characters */
export const envVarValue = text({ max: 32_768 });

/** Deepest nesting {@link jsonValue} accepts (Kubernetes' own JSON decoder stops at 10000). */
const MAX_JSON_DEPTH = 64;

/**
 * Any JSON value whose strings (object keys included) are storable as {@link text} checks
 * them, nested at most 64 deep: for the free-form objects a schema passes through to
 * Kubernetes (e.g. a pod's `affinity`). Each bad string is reported at its own path.
 */
export const jsonValue: z.ZodType<unknown> = z.unknown().superRefine((value, ctx) => {
  const visit = (node: unknown, path: (string | number)[]): void => {
    if (path.length > MAX_JSON_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
      return;
    }
    if (typeof node === 'string') {
      const problem = storableTextProblem(node) ?? (node.length > 32_768 ? 'longer than 32768' : undefined);
      if (problem) ctx.addIssue({ code: 'custom', path, message: problem });
    } else if (Array.isArray(node)) {
      node.forEach((item, i) => visit(item, [...path, i]));
    } else if (typeof node === 'object' && node !== null) {
      for (const [key, item] of Object.entries(node)) {
        const problem = storableTextProblem(key);
        if (problem) ctx.addIssue({ code: 'custom', path: [...path, key], message: `key ${problem}` });
        visit(item, [...path, key]);
      }
    } else if (typeof node === 'number' && !Number.isFinite(node)) {
      ctx.addIssue({ code: 'custom', path, message: 'must be a finite number' });
    }
  };
  visit(value, []);
});
