import { describe, expect, it } from 'vitest';
import { action, context, decide, GPU_REPLICA, policy, PRICES } from '../test-support/fixtures.ts';

const ceiling = (maxHourlyCost: number, extra: Record<string, unknown> = {}) =>
  policy({ id: 'gpu-cost', rule: { type: 'costCeiling', maxHourlyCost, ...extra } });
const priced = context({ prices: PRICES });
// 2 → 4 replicas at 4.00/h each: 16.00/h after the action.
const scaleUp = action({ resources: GPU_REPLICA });

describe('cost ceiling', () => {
  it('allows exactly at the ceiling', () => {
    expect(decide(ceiling(16), scaleUp, priced).result).toBe('allow');
  });

  it('denies one cent over, with the numbers in the message', () => {
    const d = decide(ceiling(15.99), scaleUp, priced);
    expect(d.result).toBe('deny');
    expect(d.violations).toEqual([
      expect.objectContaining({
        policyId: 'gpu-cost',
        ruleType: 'costCeiling',
        enforced: true,
        message: 'projected cost 16.00 USD/h (4 × 4.00 USD/h per replica) exceeds the ceiling of 15.99 USD/h',
        details: { projectedHourlyCost: 16, maxHourlyCost: 15.99, replicas: 4, perReplicaHourlyCost: 4 },
      }),
    ]);
  });

  it('prices GPUs by model and falls back to defaultGpuHour', () => {
    const a100 = action({ resources: { ...GPU_REPLICA, gpuModel: 'A100' } }); // 0.4 + 0.4 + 1.6 = 2.40/h
    expect(decide(ceiling(9.6), a100, priced).result).toBe('allow');
    expect(decide(ceiling(9.59), a100, priced).result).toBe('deny');
    const unknownModel = action({ resources: { ...GPU_REPLICA, gpuModel: 'L4' } });
    expect(decide(ceiling(100), unknownModel, priced).violations[0]?.message).toMatch(
      /no GPU price for model L4/,
    );
    const withDefault = context({ prices: { ...PRICES, defaultGpuHour: 1 } }); // 0.8 + 1 = 1.80/h
    expect(decide(ceiling(7.2), unknownModel, withDefault).result).toBe('allow');
  });

  it('compares money exactly at the ceiling despite floating point (3 × 0.1 = 0.3)', () => {
    const a = action({ currentReplicas: 0, desiredReplicas: 3, resources: { cpuCores: 1 } });
    expect(decide(ceiling(0.3), a, context({ prices: { cpuCoreHour: 0.1 } })).result).toBe('allow');
  });

  it('never blocks an action that lowers the cost, even above the ceiling', () => {
    const down = action({ currentReplicas: 10, desiredReplicas: 8, resources: GPU_REPLICA });
    expect(decide(ceiling(1), down, priced).result).toBe('allow');
    // ... and needs no prices to know it.
    expect(decide(ceiling(1), down, context()).result).toBe('allow');
  });

  it('checks a resource change against the ceiling (fewer but bigger replicas)', () => {
    const resize = action({
      verb: 'update',
      currentReplicas: 4,
      desiredReplicas: undefined,
      currentResources: { ...GPU_REPLICA, gpuModel: 'A100' },
      resources: GPU_REPLICA,
    });
    expect(decide(ceiling(12), resize, priced).violations[0]?.message).toMatch(/projected cost 16.00 USD\/h/);
  });

  it('keeps the current replica count for verbs other than scale', () => {
    const update = action({
      verb: 'update',
      currentReplicas: 3,
      desiredReplicas: undefined,
      resources: GPU_REPLICA,
    });
    expect(decide(ceiling(12), update, priced).result).toBe('allow');
  });

  describe('missing inputs', () => {
    it('fails closed by default, saying what is missing', () => {
      const d = decide(ceiling(100), action(), priced);
      expect(d.result).toBe('deny');
      expect(d.violations[0]?.message).toBe('cannot be checked: action.resources is not given');
      expect(decide(ceiling(100), scaleUp, context()).violations[0]?.message).toBe(
        'cannot be checked: context.prices.cpuCoreHour is not given',
      );
    });

    it('is skipped with onMissingInput: notApplicable', () => {
      const d = decide(ceiling(100, { onMissingInput: 'notApplicable' }), scaleUp, context());
      expect(d.result).toBe('allow');
      expect(d.notApplicable).toEqual([
        {
          policyId: 'gpu-cost',
          version: 1,
          reason: 'context.prices.cpuCoreHour is not given (onMissingInput: notApplicable)',
        },
      ]);
    });

    it('needs no price for a resource that is not requested', () => {
      const cpuOnly = action({ resources: { cpuCores: 2 } });
      expect(decide(ceiling(0.4), cpuOnly, context({ prices: { cpuCoreHour: 0.05 } })).result).toBe('allow');
    });
  });
});
