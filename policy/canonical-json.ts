import { PolicyInputError } from './errors.ts';

/**
 * Serialises a JSON value with object keys sorted (by UTF-16 code units, as RFC 8785 does) and
 * no whitespace, so equal values always give equal text and equal digests, whatever order
 * their keys were built in. Follows `JSON.stringify` otherwise: `toJSON` is honoured and
 * properties whose value is `undefined` are left out; array holes and `undefined` array items
 * become `null`.
 *
 * @throws {PolicyInputError} for values JSON cannot represent faithfully (NaN, ±Infinity,
 *   bigint, functions, symbols) and for cycles, so a digest never silently hashes a lossy form.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, new Set(), '$');
  if (out === undefined) throw new PolicyInputError('canonicalJson: the value has no JSON form');
  return out;
}

function write(value: unknown, ancestors: Set<object>, path: string): string | undefined {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  ) {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value))
        throw new PolicyInputError(`canonicalJson: ${path} is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case 'undefined':
      return undefined;
    case 'object':
      break;
    default:
      throw new PolicyInputError(`canonicalJson: ${path} is a ${typeof value}, which JSON cannot hold`);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new PolicyInputError(`canonicalJson: ${path} is a cycle`);
  ancestors.add(value);
  let out: string;
  if (Array.isArray(value)) {
    const items: string[] = [];
    for (let i = 0; i < value.length; i++) items.push(write(value[i], ancestors, `${path}[${i}]`) ?? 'null');
    out = `[${items.join(',')}]`;
  } else {
    const record = value as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = write(record[key], ancestors, `${path}.${key}`);
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    out = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return out;
}
