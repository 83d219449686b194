import { z } from 'zod';
import { formatMoney, formatNumber } from '../format.ts';
import type { ActionProjection } from '../projection.ts';
import { isMissing, quantizeMoney } from '../projection.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import { missingInput, onMissingInputField, PASS, violation } from './common.ts';

/**
 * The workload's projected hourly cost after the action — replicas × (CPU cores × CPU price +
 * memory GiB × memory price + GPUs × GPU price of the model) — must not exceed
 * `maxHourlyCost`. Exactly at the ceiling is allowed. An action that does not raise the
 * workload's cost (e.g. a scale-down) always passes, so an over-budget workload can shrink.
 */
export const CostCeilingRuleSchema = z.strictObject({
  type: z.literal('costCeiling'),
  /** In the price table's currency per hour. */
  maxHourlyCost: z.number().nonnegative(),
  onMissingInput: onMissingInputField,
});
export type CostCeilingRule = z.infer<typeof CostCeilingRuleSchema>;

/** Compiles a cost-ceiling rule. */
export function compileCostCeilingRule(rule: CostCeilingRule): CompiledRule {
  const ceiling = quantizeMoney(rule.maxHourlyCost);
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      if (!p.costMayIncrease) return PASS;
      const after = p.costAfter;
      if (isMissing(after)) return missingInput(rule.onMissingInput, after);
      if (after.total <= ceiling) return PASS;
      const before = p.costBefore;
      // Not raising the cost is never a violation, even above the ceiling.
      if (!isMissing(before) && after.total <= before.total) return PASS;
      const c = p.currency;
      return violation(
        `projected cost ${formatMoney(after.total, c)}/h (${formatNumber(after.replicas)} × ` +
          `${formatMoney(after.perReplica, c)}/h per replica) exceeds the ceiling of ${formatMoney(ceiling, c)}/h`,
        {
          projectedHourlyCost: after.total,
          maxHourlyCost: ceiling,
          replicas: after.replicas,
          perReplicaHourlyCost: after.perReplica,
        },
      );
    },
  };
}
