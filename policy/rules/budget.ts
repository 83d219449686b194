import { z } from 'zod';
import { formatMoney, formatNumber } from '../format.ts';
import type { ActionProjection } from '../projection.ts';
import { isMissing, quantizeMoney, TEAM_UNKNOWN } from '../projection.ts';
import { fromNaive, isValidTimeZone, naiveFields, toNaive } from '../time-zone.ts';
import type { CompiledRule, RuleOutcome } from './common.ts';
import { missingInput, onMissingInputField, PASS, violation } from './common.ts';

const HOUR_MS = 3_600_000;

/**
 * The owning team's spend this month (`context.spendMonthToDate[team]`) plus the action's
 * projected extra spend — the increase in the workload's hourly cost times the hours left in
 * the month — must not exceed `monthlyBudget`; exactly at the budget is allowed. An action
 * that does not raise the hourly cost always passes. Months are calendar months in `timeZone`.
 */
export const BudgetRuleSchema = z.strictObject({
  type: z.literal('budget'),
  /** In the price table's currency. */
  monthlyBudget: z.number().nonnegative(),
  /** Zone whose calendar months the budget follows. @default 'UTC' */
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'must be an IANA time zone such as "Europe/Berlin" or "UTC"' })
    .default('UTC'),
  onMissingInput: onMissingInputField,
});
export type BudgetRule = z.infer<typeof BudgetRuleSchema>;

/** Compiles a monthly budget rule. */
export function compileBudgetRule(rule: BudgetRule): CompiledRule {
  const budget = quantizeMoney(rule.monthlyBudget);
  return {
    evaluate(p: ActionProjection): RuleOutcome {
      if (!p.costMayIncrease) return PASS;
      const after = p.costAfter;
      if (isMissing(after)) return missingInput(rule.onMissingInput, after);
      const before = p.costBefore;
      if (isMissing(before)) return missingInput(rule.onMissingInput, before);
      const perHour = quantizeMoney(after.total - before.total);
      if (perHour <= 0) return PASS;
      const team = p.team;
      if (team === undefined) return missingInput(rule.onMissingInput, { missing: TEAM_UNKNOWN });
      const spendByTeam = p.context.spendMonthToDate;
      const spent =
        spendByTeam !== undefined && Object.hasOwn(spendByTeam, team) ? spendByTeam[team] : undefined;
      if (spent === undefined) {
        return missingInput(rule.onMissingInput, {
          missing: `context.spendMonthToDate has no entry for team ${team}`,
        });
      }
      const hoursLeft = (endOfMonth(p.nowMs, rule.timeZone) - p.nowMs) / HOUR_MS;
      const projected = quantizeMoney(perHour * hoursLeft);
      const total = quantizeMoney(spent + projected);
      if (total <= budget) return PASS;
      const c = p.currency;
      return violation(
        `team ${team}: ${formatMoney(spent, c)} spent this month + ${formatMoney(projected, c)} projected ` +
          `(+${formatMoney(perHour, c)}/h for the ${formatNumber(hoursLeft, 1)} h left in the month) = ` +
          `${formatMoney(total, c)}, over the monthly budget of ${formatMoney(budget, c)}`,
        {
          team,
          spentMonthToDate: spent,
          projectedSpend: projected,
          addedHourlyCost: perHour,
          hoursLeftInMonth: hoursLeft,
          monthlyBudget: budget,
        },
      );
    },
  };
}

/** Instant at which the calendar month containing `now` ends in `timeZone`. */
function endOfMonth(nowMs: number, timeZone: string): number {
  const f = naiveFields(toNaive(nowMs, timeZone));
  return fromNaive(Date.UTC(f.year, f.month, 1), timeZone);
}
