import { z } from 'zod';
import { PolicyMode, RuleType } from './schema.ts';

/** The overall outcome of an evaluation. */
export const DecisionResult = { allow: 'allow', deny: 'deny', warn: 'warn' } as const;
export type DecisionResult = (typeof DecisionResult)[keyof typeof DecisionResult];

const ruleType = z.enum(Object.values(RuleType) as [RuleType, ...RuleType[]]);
const mode = z.enum([PolicyMode.enforce, PolicyMode.warn, PolicyMode.dryrun]);

/** One policy a (non-exempted) action breaks. */
export const PolicyViolationSchema = z.object({
  policyId: z.string(),
  version: z.number().int(),
  priority: z.number().int(),
  ruleType,
  mode,
  /** Human-readable, with the numbers involved. */
  message: z.string(),
  /** True only for `enforce` mode: this violation is why the result is `deny`. */
  enforced: z.boolean(),
  /** The numbers behind the message, unformatted. */
  details: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
});
export type PolicyViolation = z.infer<typeof PolicyViolationSchema>;

/** A policy and the version that was used. */
export const PolicyRefSchema = z.object({ id: z.string(), version: z.number().int() });
export type PolicyRef = z.infer<typeof PolicyRefSchema>;

/** An exception that matched the action and names a policy that also matched it. */
export const PolicyExemptionSchema = z.object({
  exceptionId: z.string(),
  exceptionVersion: z.number().int(),
  policyId: z.string(),
  policyVersion: z.number().int(),
  /** Whether the exemption took effect (see `reason` when it did not). */
  applied: z.boolean(),
  reason: z.string(),
  /** The violation the exempted policy would have reported, if any. */
  waivedViolation: z.string().optional(),
});
export type PolicyExemption = z.infer<typeof PolicyExemptionSchema>;

/** A matched policy whose rule did not apply to this action, and why. */
export const PolicySkipSchema = z.object({
  policyId: z.string(),
  version: z.number().int(),
  reason: z.string(),
});
export type PolicySkip = z.infer<typeof PolicySkipSchema>;

/**
 * The answer of `evaluate`. Lists are in evaluation order (priority descending, then id), so
 * equal inputs give deep-equal decisions.
 */
export const PolicyDecisionSchema = z.object({
  result: z.enum([DecisionResult.allow, DecisionResult.deny, DecisionResult.warn]),
  violations: z.array(PolicyViolationSchema),
  /** Every policy whose selector matched the action, exceptions included. */
  matchedPolicies: z.array(PolicyRefSchema),
  exemptions: z.array(PolicyExemptionSchema),
  notApplicable: z.array(PolicySkipSchema),
});
export type PolicyDecision = z.infer<typeof PolicyDecisionSchema>;
