import { createHash } from 'node:crypto';
import { canonicalJson } from '../policy/canonical-json.ts';

/** sha256 of the canonical JSON of a value: equal content, equal digest, whatever the key order. */
export function contentDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}
