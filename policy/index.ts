/**
 * Sentinel's policy engine: pure functions, no I/O and no clock, so the same code decides
 * inside activities and re-verifies decisions in `sentinel audit verify`. See docs/policy.md.
 *
 * @module
 */

export { PolicyActionSchema, ReplicaResourcesSchema } from './action.ts';
export type { PolicyAction, ReplicaResources } from './action.ts';
export { canonicalJson } from './canonical-json.ts';
export {
  ActionHistoryEntrySchema,
  PolicyContextSchema,
  PriceTableSchema,
  ResourceUsageSchema,
  SloObservationSchema,
  TEAM_LABEL,
} from './context.ts';
export type {
  ActionHistoryEntry,
  PolicyContext,
  PriceTable,
  ResourceUsage,
  SloObservation,
} from './context.ts';
export {
  DecisionResult,
  PolicyDecisionSchema,
  PolicyExemptionSchema,
  PolicyRefSchema,
  PolicySkipSchema,
  PolicyViolationSchema,
} from './decision.ts';
export type { PolicyDecision, PolicyExemption, PolicyRef, PolicySkip, PolicyViolation } from './decision.ts';
export { decisionDigest, decisionInputs, POLICY_ENGINE_VERSION } from './digest.ts';
export type { DecisionInputs } from './digest.ts';
export { parseDuration } from './duration.ts';
export {
  formatPolicyIssue,
  PolicyError,
  PolicyErrorCode,
  PolicyInputError,
  PolicySetError,
  PolicyValidationError,
} from './errors.ts';
export type { PolicyIssue } from './errors.ts';
export { evaluate } from './evaluate.ts';
export { parsePolicyDocument, parsePolicyDocuments, validatePolicyDocument } from './parse.ts';
export { compilePolicies, PolicySet } from './policy-set.ts';
export { parseQuantity } from './quantity.ts';
export type { Quantity } from './quantity.ts';
export { OnMissingInput } from './rules/common.ts';
export { BudgetRuleSchema } from './rules/budget.ts';
export type { BudgetRule } from './rules/budget.ts';
export { CostCeilingRuleSchema } from './rules/cost-ceiling.ts';
export type { CostCeilingRule } from './rules/cost-ceiling.ts';
export { ExceptionRuleSchema } from './rules/exception.ts';
export type { ExceptionRule } from './rules/exception.ts';
export { FreezeWindowRuleSchema, FreezeWindowSchema } from './rules/freeze-window.ts';
export type { FreezeWindow, FreezeWindowRule } from './rules/freeze-window.ts';
export { QuotaRuleSchema, QuotaScope } from './rules/quota.ts';
export type { QuotaRule } from './rules/quota.ts';
export { RateLimitRuleSchema, RateLimitScope } from './rules/rate-limit.ts';
export type { RateLimitRule } from './rules/rate-limit.ts';
export { SlaRuleSchema } from './rules/sla.ts';
export type { SlaRule } from './rules/sla.ts';
export { SloGatedAction, SloRuleSchema } from './rules/slo.ts';
export type { SloRule } from './rules/slo.ts';
export { POLICY_ID_PATTERN, PolicyDocumentSchema, PolicyMode, PolicyRuleSchema, RuleType } from './schema.ts';
export type { PolicyDocument, PolicyDocumentInput, PolicyRule } from './schema.ts';
export {
  LabelSelectorRequirementSchema,
  LabelSelectorSchema,
  PolicySelectorSchema,
  SelectorOperator,
} from './selector.ts';
export type { LabelSelector, LabelSelectorRequirement, PolicySelector } from './selector.ts';
export { sha256Hex } from './sha256.ts';
export { POLICY_VERBS, PolicyVerb } from './verbs.ts';
