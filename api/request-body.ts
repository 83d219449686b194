import type { FastifyInstance } from 'fastify';
import { parseAllDocuments } from 'yaml';
import { ValidationError } from '../domain/errors.ts';

/** The largest request body the API reads, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * How deeply objects and arrays may nest in a request body. The deepest schema (a rollout's
 * analysis template) nests about a dozen levels; anything far deeper is not a document any
 * route accepts, and would only make recursive code (validation, digests) overflow its stack.
 */
export const MAX_BODY_DEPTH = 64;

/**
 * Body parsers for JSON and YAML that hand the routes only values they can validate: a body
 * that is not JSON/YAML, or nests deeper than {@link MAX_BODY_DEPTH}, is a 400 naming why,
 * before any route code sees it.
 */
export function registerBodyParsers(app: FastifyInstance): void {
  // Fastify's own JSON parser (empty-body check; `__proto__` and `constructor.prototype` keys
  // removed, so they can poison nothing and a body the schema allows is not refused for
  // them), then the depth bound.
  const parseJson = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    void parseJson(request, body as string, (err, value) => {
      if (err) return done(err, undefined);
      try {
        assertDepthWithin(value, MAX_BODY_DEPTH);
        done(null, value);
      } catch (depthError) {
        done(depthError as Error, undefined);
      }
    });
  });
  app.addContentTypeParser(
    ['application/yaml', 'text/yaml', 'application/x-yaml'],
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        const value = parseYamlBody(body as string);
        assertDepthWithin(value, MAX_BODY_DEPTH);
        done(null, value);
      } catch (err) {
        done(err as Error, undefined);
      }
    },
  );
}

function tooDeep(maxDepth: number): ValidationError {
  return new ValidationError('request body', [
    { path: '', message: `nests deeper than ${maxDepth} levels of objects and arrays` },
  ]);
}

/**
 * Throws a {@link ValidationError} when `value` nests objects or arrays deeper than `maxDepth`.
 * Iterative, so it cannot itself overflow the stack on the input it guards against.
 */
export function assertDepthWithin(value: unknown, maxDepth: number): void {
  const pending: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (next.value === null || typeof next.value !== 'object') continue;
    if (next.depth >= maxDepth) throw tooDeep(maxDepth);
    for (const child of Object.values(next.value)) pending.push({ value: child, depth: next.depth + 1 });
  }
}

/**
 * The deepest nesting of flow collections (`[`, `{`) in YAML text, outside quotes and
 * comments. The YAML parser recurses per level and can exhaust the process' memory on a
 * megabyte of `[` (a crash, not an error), so this bound is checked on the text first.
 */
export function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
    } else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return deepest;
}

/** A YAML request body (one document) as the value JSON would have given; errors name the line. */
function parseYamlBody(text: string): unknown {
  if (flowDepth(text) > MAX_BODY_DEPTH) throw tooDeep(MAX_BODY_DEPTH);
  let docs;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true });
  } catch (err) {
    // The YAML parser recurses; a pathological document can overflow its stack.
    throw new ValidationError('request body', [
      { path: '', message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` },
    ]);
  }
  const all = Array.isArray(docs) ? docs : [];
  const issues = all.flatMap((doc) =>
    doc.errors.map((err) => ({
      path: '',
      message: `invalid YAML: ${err.message.split('\n')[0]!}`,
    })),
  );
  if (issues.length > 0) throw new ValidationError('request body', issues);
  if (all.length > 1) {
    throw new ValidationError('request body', [
      { path: '', message: `expected one YAML document, found ${all.length}; send one per request` },
    ]);
  }
  try {
    return all[0]?.toJS({ maxAliasCount: 100 }) ?? null;
  } catch (err) {
    throw new ValidationError('request body', [
      { path: '', message: `invalid YAML: ${err instanceof Error ? err.message : String(err)}` },
    ]);
  }
}
