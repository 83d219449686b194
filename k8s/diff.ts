/**
 * Readable diffs between the live object and the one the apiserver stored (or, for a dry
 * run, would store): one line per changed field, with list items that carry a `name`
 * (containers, env vars, ports) addressed by that name rather than by position.
 */

/** Fields that change on every write or belong to controllers, never worth showing. */
const IGNORED_PATHS = [
  'status',
  'metadata.resourceVersion',
  'metadata.generation',
  'metadata.managedFields',
  'metadata.uid',
  'metadata.creationTimestamp',
  'metadata.selfLink',
];

/** One changed field. */
export interface FieldChange {
  path: string;
  op: 'add' | 'remove' | 'replace';
  before?: unknown;
  after?: unknown;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNamedList(value: unknown): value is { name: string }[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => isRecord(item) && typeof item.name === 'string') &&
    new Set(value.map((item: { name: string }) => item.name)).size === value.length
  );
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? segment : `${path}.${segment}`;
}

function walk(before: unknown, after: unknown, path: string, out: FieldChange[]): void {
  if (IGNORED_PATHS.includes(path)) return;
  if (before === undefined && after === undefined) return;
  if (before === undefined) {
    out.push({ path, op: 'add', after });
    return;
  }
  if (after === undefined) {
    out.push({ path, op: 'remove', before });
    return;
  }
  if (isRecord(before) && isRecord(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    for (const key of keys) walk(before[key], after[key], join(path, key), out);
    return;
  }
  if ((isNamedList(before) || isNamedList(after)) && Array.isArray(before) && Array.isArray(after)) {
    const byName = (list: unknown[]): Map<string, unknown> =>
      new Map(list.map((item) => [(item as { name: string }).name, item]));
    const b = byName(before);
    const a = byName(after);
    for (const name of new Set([...b.keys(), ...a.keys()]))
      walk(b.get(name), a.get(name), `${path}[${name}]`, out);
    return;
  }
  if (Array.isArray(before) && Array.isArray(after)) {
    for (let i = 0; i < Math.max(before.length, after.length); i++)
      walk(before[i], after[i], `${path}[${i}]`, out);
    return;
  }
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push({ path, op: 'replace', before, after });
}

/** The changed fields between two objects, `status` and write bookkeeping left out. */
export function diffObjects(before: unknown, after: unknown): FieldChange[] {
  const out: FieldChange[] = [];
  walk(before, after, '', out);
  return out;
}

/** One line per change: `~ spec.replicas: 2 → 5`, `+ path: value`, `- path: value`. */
export function formatDiff(changes: readonly FieldChange[]): string {
  const show = (value: unknown): string => JSON.stringify(value);
  return changes
    .map((c) =>
      c.op === 'add'
        ? `+ ${c.path}: ${show(c.after)}`
        : c.op === 'remove'
          ? `- ${c.path}: ${show(c.before)}`
          : `~ ${c.path}: ${show(c.before)} → ${show(c.after)}`,
    )
    .join('\n');
}

/** {@link formatDiff} of {@link diffObjects}; the empty string when nothing differs. */
export function describeChange(before: unknown, after: unknown): string {
  return formatDiff(diffObjects(before, after));
}

/**
 * What a verb reports about the object the apiserver stored for its write (really or as a dry
 * run): its resourceVersion, the object, and the readable diff from the live one.
 */
export function storedOutcome<T extends { metadata?: { resourceVersion?: string } }>(
  live: unknown,
  stored: T,
): { resourceVersion: string; diff?: string; object: T } {
  const diff = describeChange(live, stored);
  return {
    resourceVersion: stored.metadata?.resourceVersion ?? '',
    ...(diff.length > 0 && { diff }),
    object: stored,
  };
}
