import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PolicyDecisionSchema } from './decision.ts';
import type { PolicyDecision } from './decision.ts';
import { decisionDigest } from './digest.ts';
import { evaluate } from './evaluate.ts';
import { compilePolicies } from './policy-set.ts';
import { PolicyDocumentSchema } from './schema.ts';
import { arbAction, arbContext, arbEnforcedPolicy, arbPolicies } from './test-support/arbitraries.ts';

const severity = (d: PolicyDecision): number => ({ allow: 0, warn: 1, deny: 2 })[d.result];

describe('evaluate (properties)', () => {
  it('is deterministic: same inputs, copies or shuffled policies give a deep-equal decision and digest', () => {
    fc.assert(
      fc.property(
        arbAction,
        arbContext,
        arbPolicies(),
        fc.func(fc.integer()),
        (action, context, policies, order) => {
          const decision = evaluate(action, context, policies);
          expect(evaluate(action, context, policies)).toEqual(decision);
          expect(
            evaluate(structuredClone(action), structuredClone(context), structuredClone(policies)),
          ).toEqual(decision);
          const shuffled = [...policies].sort((a, b) => order(a.id) - order(b.id));
          expect(evaluate(action, context, shuffled)).toEqual(decision);
          expect(evaluate(action, context, compilePolicies(shuffled))).toEqual(decision);
          expect(decisionDigest(action, context, shuffled)).toBe(decisionDigest(action, context, policies));
        },
      ),
    );
  });

  it('adding a deny (enforce-mode) policy never turns a deny into an allow', () => {
    fc.assert(
      fc.property(
        arbAction,
        arbContext,
        arbPolicies(),
        arbEnforcedPolicy('added'),
        (action, context, policies, added) => {
          const before = evaluate(action, context, policies);
          const after = evaluate(action, context, [...policies, added]);
          if (before.result === 'deny') expect(after.result).toBe('deny');
          // Stronger: no non-exception policy ever lowers the severity, in any mode.
          expect(severity(after)).toBeGreaterThanOrEqual(severity(before));
          expect(after.violations).toEqual(expect.arrayContaining(before.violations));
        },
      ),
    );
  });

  it('adding any non-exception policy, in any mode, never lowers the severity', () => {
    fc.assert(
      fc.property(
        arbAction,
        arbContext,
        arbPolicies(),
        arbEnforcedPolicy('added'),
        fc.constantFrom('enforce' as const, 'warn' as const, 'dryrun' as const),
        (action, context, policies, added, mode) => {
          const before = evaluate(action, context, policies);
          const after = evaluate(action, context, [...policies, { ...added, mode }]);
          expect(severity(after)).toBeGreaterThanOrEqual(severity(before));
        },
      ),
    );
  });

  it('derives the result from the violations exactly as documented', () => {
    fc.assert(
      fc.property(arbAction, arbContext, arbPolicies(), (action, context, policies) => {
        const d = evaluate(action, context, policies);
        expect(PolicyDecisionSchema.parse(d)).toEqual(d);
        const expected = d.violations.some((v) => v.mode === 'enforce')
          ? 'deny'
          : d.violations.some((v) => v.mode === 'warn')
            ? 'warn'
            : 'allow';
        expect(d.result).toBe(expected);
        for (const v of d.violations) expect(v.enforced).toBe(v.mode === 'enforce');
        // Every exemption that applied came from a strictly higher-priority exception.
        const priority = new Map(policies.map((p) => [p.id, p.priority]));
        for (const e of d.exemptions.filter((x) => x.applied)) {
          expect(priority.get(e.exceptionId)!).toBeGreaterThan(priority.get(e.policyId)!);
          expect(d.violations.some((v) => v.policyId === e.policyId)).toBe(false);
        }
      }),
    );
  });

  it('keeps generated documents canonical: validating a parsed document gives it back', () => {
    fc.assert(
      fc.property(arbPolicies(), (policies) => {
        for (const p of policies) expect(PolicyDocumentSchema.parse(p)).toEqual(p);
      }),
    );
  });
});
