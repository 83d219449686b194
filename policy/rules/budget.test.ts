import { describe, expect, it } from 'vitest';
import { TEAM_LABEL } from '../context.ts';
import { action, context, decide, GPU_REPLICA, policy, PRICES } from '../test-support/fixtures.ts';

const budget = (monthlyBudget: number, extra: Record<string, unknown> = {}) =>
  policy({ id: 'team-budget', rule: { type: 'budget', monthlyBudget, ...extra } });

// 2025-06-30T00:00Z: 24 hours left in June (UTC). Scaling 2 → 4 GPU replicas adds 8.00/h → 192.00.
const now = '2025-06-30T00:00:00Z';
const scaleUp = action({ resources: GPU_REPLICA, workloadLabels: { [TEAM_LABEL]: 'vision' } });
const ctx = (spent: number, extra = {}) =>
  context({ now, prices: PRICES, spendMonthToDate: { vision: spent }, ...extra });

describe('monthly budget', () => {
  it('allows spend + projection exactly at the budget', () => {
    expect(decide(budget(1000), scaleUp, ctx(808)).result).toBe('allow');
  });

  it('denies one cent over, with the arithmetic in the message', () => {
    const d = decide(budget(1000), scaleUp, ctx(808.01));
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'team vision: 808.01 USD spent this month + 192.00 USD projected (+8.00 USD/h for the 24 h left in the month) = ' +
        '1000.01 USD, over the monthly budget of 1000.00 USD',
    );
  });

  it('follows calendar months in the rule time zone', () => {
    // In Tokyo (UTC+9) June ends at 2025-06-30T15:00Z: 15 h left → 120.00 projected.
    expect(decide(budget(1000, { timeZone: 'Asia/Tokyo' }), scaleUp, ctx(880)).result).toBe('allow');
    expect(decide(budget(1000, { timeZone: 'Asia/Tokyo' }), scaleUp, ctx(880.01)).result).toBe('deny');
  });

  it('never blocks an action that does not add cost, even over budget', () => {
    const down = action({ currentReplicas: 4, desiredReplicas: 2, resources: GPU_REPLICA });
    expect(decide(budget(0), down, context({ now })).result).toBe('allow');
  });

  it('uses the price table currency', () => {
    const eur = ctx(2000, { prices: { ...PRICES, currency: 'EUR' } });
    expect(decide(budget(1000), scaleUp, eur).violations[0]?.message).toMatch(/2000\.00 EUR spent/);
  });

  it('fails closed when the team or its spend is unknown', () => {
    const noTeam = action({ resources: GPU_REPLICA });
    expect(decide(budget(1000), noTeam, ctx(0)).violations[0]?.message).toMatch(/team is unknown/);
    expect(decide(budget(1000), noTeam, ctx(0, { team: 'vision' })).result).toBe('allow');
    expect(decide(budget(1000), scaleUp, context({ now, prices: PRICES })).violations[0]?.message).toBe(
      'cannot be checked: context.spendMonthToDate has no entry for team vision',
    );
    expect(decide(budget(1000, { onMissingInput: 'notApplicable' }), scaleUp, context({ now })).result).toBe(
      'allow',
    );
  });
});
