import { z } from 'zod';
import { BudgetRuleSchema } from './rules/budget.ts';
import { CostCeilingRuleSchema } from './rules/cost-ceiling.ts';
import { ExceptionRuleSchema } from './rules/exception.ts';
import { FreezeWindowRuleSchema } from './rules/freeze-window.ts';
import { QuotaRuleSchema } from './rules/quota.ts';
import { RateLimitRuleSchema } from './rules/rate-limit.ts';
import { SlaRuleSchema } from './rules/sla.ts';
import { SloRuleSchema } from './rules/slo.ts';
import { PolicySelectorSchema } from './selector.ts';
import { text } from '../domain/strings.ts';

/**
 * What a policy's violation does to the decision: `enforce` denies, `warn` allows and
 * reports (result `warn`), `dryrun` records what would have been denied and allows.
 */
export const PolicyMode = { enforce: 'enforce', warn: 'warn', dryrun: 'dryrun' } as const;
export type PolicyMode = (typeof PolicyMode)[keyof typeof PolicyMode];

/** The `type` of a policy's rule. */
export const RuleType = {
  costCeiling: 'costCeiling',
  quota: 'quota',
  sla: 'sla',
  slo: 'slo',
  rateLimit: 'rateLimit',
  freezeWindow: 'freezeWindow',
  budget: 'budget',
  exception: 'exception',
} as const;
export type RuleType = (typeof RuleType)[keyof typeof RuleType];

/** A policy's rule, discriminated on `type`. */
export const PolicyRuleSchema = z.discriminatedUnion('type', [
  CostCeilingRuleSchema,
  QuotaRuleSchema,
  SlaRuleSchema,
  SloRuleSchema,
  RateLimitRuleSchema,
  FreezeWindowRuleSchema,
  BudgetRuleSchema,
  ExceptionRuleSchema,
]);
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;

/** Policy ids look like Kubernetes object names, so they are safe in URLs, labels and files. */
export const POLICY_ID_PATTERN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * A versioned policy document. Stored and exchanged as YAML or JSON; parsing fills the
 * defaults, and a parsed document parses again to itself, so the stored form is canonical.
 */
export const PolicyDocumentSchema = z.strictObject({
  id: z
    .string()
    .max(253)
    .regex(
      POLICY_ID_PATTERN,
      'must be a lowercase name of a-z, 0-9, "-" and ".", starting and ending alphanumeric',
    ),
  /** Bumped on every change; decisions and audit records name the version they used. */
  version: z.int().min(1),
  /** @default '' */
  description: text({ max: 4000 }).default(''),
  /** Higher runs first and wins exceptions; see docs/policy.md. @default 0 */
  priority: z.int().min(-1_000_000).max(1_000_000).default(0),
  /** @default 'enforce' */
  mode: z.enum([PolicyMode.enforce, PolicyMode.warn, PolicyMode.dryrun]).default('enforce'),
  /** Which actions the policy applies to. @default {} (every action) */
  selector: PolicySelectorSchema.default({}),
  rule: PolicyRuleSchema,
});
/** A validated policy document, defaults filled. */
export type PolicyDocument = z.infer<typeof PolicyDocumentSchema>;
/** A policy document as an author may write it (defaults optional). */
export type PolicyDocumentInput = z.input<typeof PolicyDocumentSchema>;
