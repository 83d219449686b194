// The decision procedure. Conflict resolution, in full (also in docs/policy.md):
//  1. Policies run in priority order (higher first, ties by id); every matching policy is
//     evaluated and every violation reported — there is no short-circuit.
//  2. An exception exempts the actions it selects from the policies it names, but only over
//     policies of strictly lower priority, only before it expires, and not in dryrun mode.
//  3. Result: deny if any non-exempted enforce-mode policy is violated; else warn if any
//     warn-mode policy is; else allow (dryrun violations are recorded, never acted on).

import type { PolicyAction } from './action.ts';
import type { PolicyContext } from './context.ts';
import type { PolicyDecision, PolicyExemption, PolicySkip, PolicyViolation } from './decision.ts';
import { PolicyInputError } from './errors.ts';
import { parseInstant } from './instant.ts';
import type { CompiledPolicy } from './policy-set.ts';
import { compilePolicies, PolicySet } from './policy-set.ts';
import { ActionProjection } from './projection.ts';
import type { PolicyDocument } from './schema.ts';

/** `context.now` in epoch ms. @throws {PolicyInputError} when it is not ISO 8601 with offset. */
export function contextInstant(context: PolicyContext): number {
  const now = parseInstant(context.now);
  if (now === undefined)
    throw new PolicyInputError(`context.now must be an ISO 8601 timestamp with offset, got "${context.now}"`);
  return now;
}

/** Whether exception `e` exempts policy `p` at `nowMs`, and why (not). */
function exemptionStatus(
  e: CompiledPolicy,
  p: CompiledPolicy,
  nowMs: number,
): { applied: boolean; reason: string } {
  const expiresMs = e.exception!.expiresMs;
  if (expiresMs !== undefined && nowMs >= expiresMs) {
    return { applied: false, reason: `exception expired at ${(e.doc.rule as { expires: string }).expires}` };
  }
  if (e.doc.mode === 'dryrun')
    return { applied: false, reason: 'exception is in dryrun mode: reported, not applied' };
  if (e.doc.priority <= p.doc.priority) {
    return {
      applied: false,
      reason: `exception priority ${e.doc.priority} is not higher than policy priority ${p.doc.priority}`,
    };
  }
  return {
    applied: true,
    reason: `exception priority ${e.doc.priority} is higher than policy priority ${p.doc.priority}`,
  };
}

/**
 * Decides whether `action` may proceed under `policies`, given `context`. Pure and
 * deterministic: the same inputs always give a deep-equal decision, whatever order the
 * policies come in. Inputs are trusted to match their schemas (validate at the boundary with
 * `PolicyActionSchema` / `PolicyContextSchema`); policies are validated when compiled.
 *
 * @param policies a {@link PolicySet} from `compilePolicies` (fast), or documents, which are
 *   validated and compiled on every call.
 * @throws {PolicyInputError} when `context.now` or a history timestamp is unreadable.
 * @throws {PolicyValidationError | PolicySetError} when given invalid or clashing documents.
 */
export function evaluate(
  action: PolicyAction,
  context: PolicyContext,
  policies: PolicySet | readonly PolicyDocument[],
): PolicyDecision {
  const set = policies instanceof PolicySet ? policies : compilePolicies(policies);
  const nowMs = contextInstant(context);
  const projection = new ActionProjection(action, context, nowMs);

  const matched: CompiledPolicy[] = [];
  let exceptions: CompiledPolicy[] | undefined;
  for (const policy of set.compiled) {
    if (!policy.selector.matches(action)) continue;
    matched.push(policy);
    if (policy.exception !== undefined) (exceptions ??= []).push(policy);
  }

  const violations: PolicyViolation[] = [];
  const exemptions: PolicyExemption[] = [];
  const notApplicable: PolicySkip[] = [];
  let denied = false;
  let warned = false;

  for (const policy of matched) {
    if (policy.rule === undefined) continue;
    const { doc } = policy;
    let exempt = false;
    const mine: PolicyExemption[] = [];
    if (exceptions !== undefined) {
      for (const e of exceptions) {
        if (!e.exception!.exempts.has(doc.id)) continue;
        const status = exemptionStatus(e, policy, nowMs);
        exempt ||= status.applied;
        mine.push({
          exceptionId: e.doc.id,
          exceptionVersion: e.doc.version,
          policyId: doc.id,
          policyVersion: doc.version,
          applied: status.applied,
          reason: status.reason,
        });
      }
    }
    const outcome = policy.rule.evaluate(projection);
    if (outcome.status === 'notApplicable') {
      notApplicable.push({ policyId: doc.id, version: doc.version, reason: outcome.reason });
    } else if (outcome.status === 'violation') {
      if (exempt) {
        for (const m of mine) if (m.applied) m.waivedViolation = outcome.message;
      } else {
        const enforced = doc.mode === 'enforce';
        denied ||= enforced;
        warned ||= doc.mode === 'warn';
        violations.push({
          policyId: doc.id,
          version: doc.version,
          priority: doc.priority,
          ruleType: doc.rule.type,
          mode: doc.mode,
          message: outcome.message,
          enforced,
          details: outcome.details,
        });
      }
    }
    exemptions.push(...mine);
  }

  return {
    result: denied ? 'deny' : warned ? 'warn' : 'allow',
    violations,
    matchedPolicies: matched.map((p) => ({ id: p.doc.id, version: p.doc.version })),
    exemptions,
    notApplicable,
  };
}
