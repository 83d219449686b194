import { z } from 'zod';
import { parseDuration } from '../duration.ts';
import { plural } from '../format.ts';
import type { ActionProjection } from '../projection.ts';
import type { PolicyAction } from '../action.ts';
import type { ActionHistoryEntry } from '../context.ts';
import type { CompiledRule, RuleCompileContext, RuleOutcome } from './common.ts';
import { DurationSchema, missingInput, onMissingInputField, PASS, violation } from './common.ts';

/** What a rate limit counts together. */
export const RateLimitScope = {
  /** Every action the policy's selector matches, wherever it is. */
  selector: 'selector',
  /** Per workload (cluster/namespace/kind/name). */
  workload: 'workload',
  /** Per cluster/namespace. */
  namespace: 'namespace',
  /** Per cluster. */
  cluster: 'cluster',
} as const;
export type RateLimitScope = (typeof RateLimitScope)[keyof typeof RateLimitScope];

/**
 * At most `maxActions` actions per `window`, this one included: the history entries within
 * (now - window, now] that the policy's selector matches and that share the action's
 * `per` scope are counted, and the action is a violation when that count is already
 * `maxActions` or more. Entries later than `now` are ignored, so re-evaluating a decision
 * with a later history gives the same answer.
 */
export const RateLimitRuleSchema = z.strictObject({
  type: z.literal('rateLimit'),
  maxActions: z.number().int().nonnegative(),
  window: DurationSchema,
  /** @default 'selector' */
  per: z
    .enum([
      RateLimitScope.selector,
      RateLimitScope.workload,
      RateLimitScope.namespace,
      RateLimitScope.cluster,
    ])
    .default('selector'),
  onMissingInput: onMissingInputField,
});
export type RateLimitRule = z.infer<typeof RateLimitRuleSchema>;

/** Compiles a rate limit. */
export function compileRateLimitRule(rule: RateLimitRule, { selector }: RuleCompileContext): CompiledRule {
  const windowMs = parseDuration(rule.window)!;
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      const history = p.context.history;
      if (history === undefined)
        return missingInput(rule.onMissingInput, { missing: 'context.history is not given' });
      const from = p.nowMs - windowMs;
      const sameScope = scopeFilter(rule.per, p.action);
      let count = 0;
      for (let i = 0; i < history.length; i++) {
        const entry = history[i]!;
        // Cheap string comparisons first; the timestamp is parsed only for candidates.
        if (!sameScope(entry) || !selector.mayMatch(entry)) continue;
        const at = p.historyTime(i);
        if (at > from && at <= p.nowMs) count++;
      }
      if (count < rule.maxActions) return PASS;
      const where = describeScope(rule.per, p.action);
      return violation(
        `${plural(count, 'action')} ${where} in the last ${rule.window} already reach the limit of ${rule.maxActions}; ` +
          `this one would be number ${count + 1}`,
        { actionsInWindow: count, maxActions: rule.maxActions, window: rule.window, per: rule.per },
      );
    },
  };
}

function scopeFilter(per: RateLimitScope, action: PolicyAction): (entry: ActionHistoryEntry) => boolean {
  const t = action.target;
  switch (per) {
    case 'selector':
      return () => true;
    case 'cluster':
      return (e) => e.target.cluster === t.cluster;
    case 'namespace':
      return (e) => e.target.cluster === t.cluster && e.target.namespace === t.namespace;
    case 'workload':
      return (e) =>
        e.target.cluster === t.cluster &&
        e.target.namespace === t.namespace &&
        e.target.kind === t.kind &&
        e.target.name === t.name;
  }
}

function describeScope(per: RateLimitScope, action: PolicyAction): string {
  const t = action.target;
  switch (per) {
    case 'selector':
      return 'matching this policy';
    case 'cluster':
      return `on cluster ${t.cluster}`;
    case 'namespace':
      return `in ${t.cluster}/${t.namespace}`;
    case 'workload':
      return `on ${t.cluster}/${t.namespace}/${t.kind}/${t.name}`;
  }
}
