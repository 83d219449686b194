import { z } from 'zod';
import { plural } from '../format.ts';
import type { ActionProjection } from '../projection.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import { missingInput, onMissingInputField, PASS, violation } from './common.ts';

/**
 * Verbs that replace pods one batch at a time, taking up to `maxUnavailable` replicas down
 * while they run. `scale`, `setWeight` and `switch` do not restart pods.
 */
const ROLLING_VERBS: ReadonlySet<string> = new Set(['update', 'rollback', 'reschedule', 'promote']);

const PERCENT = /^(\d{1,3}(?:\.\d+)?)%$/;

/**
 * At least `minAvailable` replicas — a count, or a percentage of the replicas the workload
 * has now, rounded up as a PodDisruptionBudget does — must stay available both during the
 * change (a rolling verb takes down up to `maxUnavailable`) and after it. An action that
 * does not reduce availability always passes, so a degraded workload can be scaled up or
 * repaired.
 */
export const SlaRuleSchema = z.strictObject({
  type: z.literal('sla'),
  minAvailable: z.union([
    z.number().int().nonnegative(),
    z.string().refine((s) => PERCENT.test(s) && Number(PERCENT.exec(s)![1]) <= 100, {
      message: 'must be a whole number of replicas or a percentage such as "75%"',
    }),
  ]),
  onMissingInput: onMissingInputField,
});
export type SlaRule = z.infer<typeof SlaRuleSchema>;

/** Compiles an SLA (minimum availability) rule. */
export function compileSlaRule(rule: SlaRule): CompiledRule {
  const percent =
    typeof rule.minAvailable === 'string' ? Number(PERCENT.exec(rule.minAvailable)![1]) : undefined;
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      const before = p.replicasBefore;
      if (before === undefined)
        return missingInput(rule.onMissingInput, { missing: 'action.currentReplicas is not given' });
      const after = p.replicasAfter;
      if (after === undefined)
        return missingInput(rule.onMissingInput, { missing: 'action.desiredReplicas is not given' });
      const available = p.context.availableReplicas ?? before;
      const required =
        percent === undefined ? (rule.minAvailable as number) : Math.ceil((percent * before) / 100);
      const requirement =
        percent === undefined
          ? `the minimum of ${required}`
          : `the minimum of ${required} (${percent}% of ${before})`;
      const details = { minAvailable: required, availableNow: available, replicasAfter: after };

      if (after < required && after < available) {
        return violation(
          `${p.action.verb} to ${plural(after, 'replica')} leaves ${after} available after the change, below ${requirement}`,
          details,
        );
      }
      const rolling = ROLLING_VERBS.has(p.action.verb);
      // Kubernetes' Deployment default: maxUnavailable 25% of the replicas, rounded down.
      const maxUnavailable = rolling ? (p.action.maxUnavailable ?? Math.floor(after / 4)) : 0;
      const during = Math.max(0, Math.min(available, after) - maxUnavailable);
      if (during < required && during < available) {
        return violation(
          `${p.action.verb} leaves ${during} of ${plural(available, 'replica')} available during the change ` +
            `(up to ${maxUnavailable} unavailable at once), below ${requirement}`,
          { ...details, availableDuring: during, maxUnavailable },
        );
      }
      return PASS;
    },
  };
}
