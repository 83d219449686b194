import { describe, expect, it } from 'vitest';
import { canaryReplicaSplit, followStableScale, replicaWeight, weightStages } from './canary-replicas.ts';

describe('canaryReplicaSplit', () => {
  it.each([
    // total, weight → canary, stable, real weight (dynamic stable scale)
    [1, 10, 1, 1, 50],
    [1, 50, 1, 1, 50],
    [1, 100, 1, 0, 100],
    [4, 25, 1, 3, 25],
    [3, 50, 2, 1, 66.7],
    [10, 1, 1, 9, 10],
    [3, 10, 1, 2, 33.3],
    [3, 99, 2, 1, 66.7],
    [2, 99, 1, 1, 50],
    [4, 75, 3, 1, 75],
    [4, 100, 4, 0, 100],
    [4, 0, 0, 4, 0],
    [0, 50, 0, 0, 0],
  ])('dynamic: %i replicas × %i%% → canary %i, stable %i (%f%%)', (total, weight, canary, stable, real) => {
    expect(canaryReplicaSplit(total, weight, true)).toEqual({ canary, stable, weight: real });
  });

  it('keeps at least one stable pod before the final step, whatever the rounding', () => {
    for (let total = 1; total <= 20; total++)
      for (let weight = 1; weight < 100; weight++) {
        const split = canaryReplicaSplit(total, weight, true);
        expect(split.stable).toBeGreaterThanOrEqual(1);
        expect(split.canary).toBeGreaterThanOrEqual(1);
        expect(split.weight).toBe(replicaWeight(split.canary, split.stable));
      }
  });

  it.each([
    [2, 50, 1, 2, 33.3],
    [4, 25, 1, 4, 20],
    [10, 55, 6, 10, 37.5],
    [1, 10, 1, 1, 50],
    [4, 100, 4, 4, 50],
    [3, 0, 0, 3, 0],
  ])(
    'without dynamic scale: %i replicas × %i%% → canary %i, stable %i (%f%%)',
    (total, weight, canary, stable, real) => {
      expect(canaryReplicaSplit(total, weight, false)).toEqual({ canary, stable, weight: real });
    },
  );
});

describe('followStableScale', () => {
  it('moves the total by a scale the rollout did not make', () => {
    expect(followStableScale(4, 4, 8)).toBe(8);
    expect(followStableScale(4, 3, 7)).toBe(8);
    expect(followStableScale(8, 8, 8)).toBe(8);
    expect(followStableScale(4, 3, 0)).toBe(1);
  });
});

describe('weightStages', () => {
  it('grows the receiving side first, then shrinks the giving side', () => {
    expect(weightStages({ canary: 0, stable: 4 }, { canary: 2, stable: 2 })).toEqual([
      { canary: 2, stable: 4 },
      { canary: 2, stable: 2 },
    ]);
    // Back down: the stable grows first, the canary goes after.
    expect(weightStages({ canary: 3, stable: 1 }, { canary: 1, stable: 3 })).toEqual([
      { canary: 3, stable: 3 },
      { canary: 1, stable: 3 },
    ]);
  });

  it('has one stage when only one side moves, none when nothing does', () => {
    expect(weightStages({ canary: 0, stable: 4 }, { canary: 1, stable: 4 })).toEqual([
      { canary: 1, stable: 4 },
    ]);
    expect(weightStages({ canary: 1, stable: 4 }, { canary: 1, stable: 4 })).toEqual([]);
  });

  it('lets the stable give up front only the pods the canary cannot get elsewhere', () => {
    expect(weightStages({ canary: 0, stable: 4 }, { canary: 2, stable: 2 }, 1)).toEqual([
      { canary: 2, stable: 3 },
      { canary: 2, stable: 2 },
    ]);
    expect(weightStages({ canary: 0, stable: 4 }, { canary: 2, stable: 2 }, 5)).toEqual([
      { canary: 2, stable: 2 },
    ]);
  });
});
