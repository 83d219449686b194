// The digest an audit record stores next to a decision. `sentinel audit verify` recomputes
// it from the stored action, context and policy versions: a match proves the record names
// exactly the inputs the decision was made from, and re-running evaluate() on them proves
// the decision itself.

import type { PolicyAction } from './action.ts';
import { canonicalJson } from './canonical-json.ts';
import type { PolicyContext } from './context.ts';
import { validatePolicyDocument } from './parse.ts';
import { PolicySet } from './policy-set.ts';
import type { PolicyDocument } from './schema.ts';
import { sha256Hex } from './sha256.ts';

/**
 * Identifies the evaluation semantics. It is part of every digest and changes whenever a
 * change to the engine could change a decision for the same inputs, so the verifier knows
 * which semantics a record was made under.
 */
export const POLICY_ENGINE_VERSION = 'sentinel-policy/1';

/** Exactly what {@link decisionDigest} hashes. */
export interface DecisionInputs {
  readonly engine: string;
  readonly action: PolicyAction;
  readonly context: PolicyContext;
  /** Validated documents (defaults filled), sorted by id then version. */
  readonly policies: readonly PolicyDocument[];
}

/**
 * The inputs of a decision in canonical form: policies validated (so a default written out
 * or left implicit hashes alike) and sorted by id, so their order does not matter.
 */
export function decisionInputs(
  action: PolicyAction,
  context: PolicyContext,
  policies: PolicySet | readonly PolicyDocument[],
): DecisionInputs {
  const docs =
    policies instanceof PolicySet ? [...policies.documents] : policies.map((p) => validatePolicyDocument(p));
  docs.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.version - b.version));
  return { engine: POLICY_ENGINE_VERSION, action, context, policies: docs };
}

/**
 * SHA-256 (lowercase hex) of the canonical JSON (sorted keys, no whitespace) of
 * {@link decisionInputs}: the engine version, the action, the context and every policy
 * document in full, ids and versions included. Stable across processes, hosts and key order.
 *
 * @throws {PolicyValidationError} when a document is invalid.
 * @throws {PolicyInputError} when the inputs hold values JSON cannot represent (NaN, bigint).
 */
export function decisionDigest(
  action: PolicyAction,
  context: PolicyContext,
  policies: PolicySet | readonly PolicyDocument[],
): string {
  return sha256Hex(canonicalJson(decisionInputs(action, context, policies)));
}
