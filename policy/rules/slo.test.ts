import { describe, expect, it } from 'vitest';
import { action, context, decide, NOW, policy } from '../test-support/fixtures.ts';

const slo = (extra: Record<string, unknown> = {}) =>
  policy({
    id: 'healthy-first',
    rule: { type: 'slo', maxLatencyP99Ms: 250, minSuccessRate: 0.999, ...extra },
  });
const promote = action({ verb: 'promote', desiredReplicas: undefined });
const healthy = context({ slo: { latencyP99Ms: 250, successRate: 0.999 } });

describe('SLO gate', () => {
  it('allows a risky action exactly at the bounds', () => {
    expect(decide(slo(), promote, healthy).result).toBe('allow');
  });

  it('denies just outside either bound, with the numbers', () => {
    const slow = context({ slo: { latencyP99Ms: 251, successRate: 0.9989 } });
    const d = decide(slo(), promote, slow);
    expect(d.result).toBe('deny');
    expect(d.violations[0]?.message).toBe(
      'promote needs the SLO to hold: p99 latency 251 ms exceeds 250 ms; success rate 99.89% is below 99.9%',
    );
  });

  it('gates promotions and scale-downs by default, not scale-ups or updates', () => {
    const bad = context({ slo: { latencyP99Ms: 900, successRate: 0.5 } });
    expect(decide(slo(), action({ currentReplicas: 4, desiredReplicas: 3 }), bad).result).toBe('deny');
    const up = decide(slo(), action({ currentReplicas: 4, desiredReplicas: 5 }), bad);
    expect(up.result).toBe('allow');
    expect(up.notApplicable[0]?.reason).toBe(
      'scaleUp is not gated by this SLO (appliesTo: promote, scaleDown)',
    );
    expect(decide(slo(), action({ verb: 'update' }), bad).result).toBe('allow');
    expect(decide(slo({ appliesTo: ['update'] }), action({ verb: 'update' }), bad).result).toBe('deny');
  });

  it('treats a scale that keeps the count as not applicable', () => {
    expect(
      decide(slo(), action({ currentReplicas: 4, desiredReplicas: 4 }), context()).notApplicable,
    ).toHaveLength(1);
  });

  it('needs the replica counts to tell a scale-down, only when scaling is gated', () => {
    const unknown = action({ currentReplicas: undefined });
    expect(decide(slo(), unknown, healthy).violations[0]?.message).toMatch(
      /to tell a scale-down from a scale-up/,
    );
    expect(decide(slo({ appliesTo: ['promote'] }), unknown, healthy).result).toBe('allow');
  });

  it('fails closed without observations, or skips with notApplicable', () => {
    expect(decide(slo(), promote, context()).violations[0]?.message).toBe(
      'cannot be checked: context.slo.latencyP99Ms is not given',
    );
    expect(decide(slo({ onMissingInput: 'notApplicable' }), promote, context()).result).toBe('allow');
  });

  it('rejects stale observations when maxObservationAge is set', () => {
    const rule = slo({ maxObservationAge: '5m' });
    const at = (msAgo: number) => new Date(Date.parse(NOW) - msAgo).toISOString();
    const observed = (msAgo: number) =>
      context({ slo: { latencyP99Ms: 10, successRate: 1, observedAt: at(msAgo) } });
    expect(decide(rule, promote, observed(300_000)).result).toBe('allow');
    expect(decide(rule, promote, observed(300_001)).violations[0]?.message).toMatch(/is older than 5m/);
    expect(decide(rule, promote, healthy).violations[0]?.message).toMatch(/observedAt is not given/);
  });

  it('needs at least one bound', () => {
    expect(() => policy({ rule: { type: 'slo' } })).toThrow(/maxLatencyP99Ms, minSuccessRate or both/);
  });
});
