// Turning YAML/JSON text into validated policy documents, with errors an author can act on:
// every issue names the field path, the reason and, for text, the line.

import type { Document } from 'yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import type { PolicyIssue } from './errors.ts';
import { PolicyValidationError } from './errors.ts';
import type { PolicyDocument } from './schema.ts';
import { PolicyDocumentSchema } from './schema.ts';

/** Turns a zod path into `rule.windows[0].cron` / `selector.workloadSelector.matchLabels["app.kubernetes.io/name"]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number' && Number.isNaN(value)) return 'NaN';
  return typeof value;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

// Per-parse error map: zod's defaults ("Invalid input: expected number, received string") are
// reworded into short "expected X, received Y" reasons; messages set on a schema win over it.
type RawIssue = Parameters<
  Extract<NonNullable<z.core.ParseContext<z.core.$ZodIssue>['error']>, (...a: never[]) => unknown>
>[0];

function issueMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined
        ? `is required (expected ${issue.expected})`
        : `expected ${issue.expected}, received ${typeName(issue.input)}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? quote(issue.values[0]) : `one of ${issue.values.map(quote).join(' | ')}`}, received ${quote(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      const tagged = issue as { discriminator?: unknown; options?: unknown };
      if (typeof tagged.discriminator === 'string' && Array.isArray(tagged.options)) {
        // The issue sits on the discriminator field but carries the whole object as input.
        const input = issue.input as Record<string, unknown> | undefined;
        const value = input !== null && typeof input === 'object' ? input[tagged.discriminator] : undefined;
        const options = tagged.options.map(quote).join(' | ');
        return value === undefined
          ? `is required (one of ${options})`
          : `expected one of ${options}, received ${quote(value)}`;
      }
      const expected = new Set<string>();
      for (const branch of issue.errors) {
        for (const inner of branch)
          if (inner.code === 'invalid_type' && inner.path.length === 0) expected.add(inner.expected);
      }
      if (expected.size === 0) return undefined;
      return issue.input === undefined
        ? `is required (expected ${[...expected].join(' or ')})`
        : `expected ${[...expected].join(' or ')}, received ${typeName(issue.input)}`;
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      const least = issue.code === 'too_small';
      const relation = least ? (inclusive ? 'at least' : 'more than') : inclusive ? 'at most' : 'less than';
      switch (issue.origin) {
        case 'array':
        case 'set':
          return `must have ${relation} ${String(bound)} item${Number(bound) === 1 ? '' : 's'}`;
        case 'string':
          return `must be ${relation} ${String(bound)} character${Number(bound) === 1 ? '' : 's'} long`;
        default:
          return `must be ${relation} ${String(bound)}, received ${quote(issue.input)}`;
      }
    }
    default:
      return undefined;
  }
}

const PARSE_OPTIONS = { error: issueMessage } as const;

function issuesOf(error: z.ZodError): { path: (string | number)[]; message: string }[] {
  return error.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message }));
}

/**
 * Validates a parsed (plain object) policy document.
 * @throws {PolicyValidationError} listing every problem with its field path.
 */
export function validatePolicyDocument(value: unknown): PolicyDocument {
  const result = PolicyDocumentSchema.safeParse(value, PARSE_OPTIONS);
  if (result.success) return result.data;
  throw new PolicyValidationError(
    issuesOf(result.error).map((i) => ({ path: formatPath(i.path), message: i.message })),
  );
}

interface SourceDocument {
  readonly value: unknown;
  readonly doc: Document.Parsed;
  /** Present when the document is one item of a top-level list. */
  readonly itemIndex?: number;
}

/** Parses YAML/JSON text (JSON is YAML 1.2) into its non-empty documents. */
function readDocuments(text: string): { docs: SourceDocument[]; lines: LineCounter } {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  // A stream with no documents at all comes back as an empty EmptyStream.
  const all = Array.isArray(parsed) ? parsed : [];
  const syntax: PolicyIssue[] = [];
  all.forEach((doc, i) => {
    for (const err of doc.errors) {
      syntax.push({
        path: '',
        // The parser's first line ends " at line 3, column 5:"; the line goes into `line` instead.
        message: `invalid YAML/JSON: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
        ...(all.length > 1 ? { document: i + 1 } : {}),
        ...(err.linePos?.[0] ? { line: err.linePos[0].line } : {}),
      });
    }
  });
  if (syntax.length > 0) throw new PolicyValidationError(syntax);
  // An empty document (a trailing `---`, or only comments) reads as null: skip it.
  const docs = all
    .map((doc) => ({ value: doc.toJS({ maxAliasCount: 100 }) as unknown, doc }))
    .filter((d) => d.value !== null && d.value !== undefined);
  return { docs, lines };
}

function lineOf(source: SourceDocument, path: (string | number)[], lines: LineCounter): number | undefined {
  const full = source.itemIndex === undefined ? path : [source.itemIndex, ...path];
  // The deepest node that exists: a missing field is reported at its parent.
  for (let n = full.length; n >= 0; n--) {
    const node = source.doc.getIn(full.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range !== undefined) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function validateSource(
  source: SourceDocument,
  lines: LineCounter,
  documentNumber: number | undefined,
): PolicyDocument | PolicyIssue[] {
  const result = PolicyDocumentSchema.safeParse(source.value, PARSE_OPTIONS);
  if (result.success) return result.data;
  return issuesOf(result.error).map((i) => {
    const line = lineOf(source, i.path, lines);
    return {
      path: source.itemIndex === undefined ? formatPath(i.path) : formatPath([source.itemIndex, ...i.path]),
      message: i.message,
      ...(documentNumber === undefined ? {} : { document: documentNumber }),
      ...(line === undefined ? {} : { line }),
    };
  });
}

/**
 * Parses one policy document from YAML or JSON text and validates it.
 * @throws {PolicyValidationError} (`SENTINEL_ERR_POLICY_INVALID`) naming each bad field, e.g.
 *   `rule.maxHourlyCost: expected number, received string (line 9)`.
 */
export function parsePolicyDocument(text: string): PolicyDocument {
  const { docs, lines } = readDocuments(text);
  if (docs.length !== 1) {
    throw new PolicyValidationError([
      {
        path: '',
        message:
          docs.length === 0
            ? 'expected a policy document, found none'
            : `expected one policy document, found ${docs.length} (use parsePolicyDocuments for multi-document YAML)`,
      },
    ]);
  }
  const result = validateSource(docs[0]!, lines, undefined);
  if (Array.isArray(result)) throw new PolicyValidationError(result);
  return result;
}

/**
 * Parses every policy in YAML/JSON text: several `---`-separated documents, a top-level
 * list of documents, or both. Ids must be unique across the text. Empty text gives `[]`.
 * @throws {PolicyValidationError} listing the problems of every invalid document.
 */
export function parsePolicyDocuments(text: string): PolicyDocument[] {
  const { docs, lines } = readDocuments(text);
  const sources: SourceDocument[] = docs.flatMap((d) =>
    Array.isArray(d.value)
      ? d.value.map((value: unknown, itemIndex) => ({ value, doc: d.doc, itemIndex }))
      : [d],
  );
  const documentNumbers = new Map(docs.map((d, i) => [d.doc, i + 1]));
  const many = docs.length > 1;
  const policies: PolicyDocument[] = [];
  const issues: PolicyIssue[] = [];
  const seen = new Map<string, string>();
  for (const source of sources) {
    const number = many ? documentNumbers.get(source.doc) : undefined;
    const result = validateSource(source, lines, number);
    if (Array.isArray(result)) {
      issues.push(...result);
      continue;
    }
    const where =
      `${number === undefined ? '' : `document ${number}`}${source.itemIndex === undefined ? '' : ` item ${source.itemIndex}`}`.trim();
    const first = seen.get(result.id);
    if (first !== undefined) {
      const line = lineOf(source, ['id'], lines);
      issues.push({
        path: source.itemIndex === undefined ? 'id' : formatPath([source.itemIndex, 'id']),
        message: `duplicate policy id "${result.id}" (first defined in ${first || 'this text'})`,
        ...(number === undefined ? {} : { document: number }),
        ...(line === undefined ? {} : { line }),
      });
      continue;
    }
    seen.set(result.id, where);
    policies.push(result);
  }
  if (issues.length > 0) throw new PolicyValidationError(issues);
  return policies;
}
