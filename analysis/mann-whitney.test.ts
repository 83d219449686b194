import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AnalysisInputError } from './errors.ts';
import { mannWhitneyJudge } from './mann-whitney.ts';
import type { JudgeDirection } from './mann-whitney.ts';
import { normalCdf, normalSurvival } from './normal.ts';

describe('normal distribution', () => {
  // Reference values of Φ from standard tables (15+ significant digits).
  it.each([
    [0, 0.5],
    [0.3, 0.6179114221889527],
    [1, 0.8413447460685429],
    [1.96, 0.9750021048517795],
    [2.5, 0.9937903346742238],
    [-1.5, 0.06680720126885807],
    [-3, 0.0013498980316301035],
  ])('Φ(%d) = %d', (z, p) => {
    expect(Math.abs(normalCdf(z) - p) / p).toBeLessThan(1e-13);
  });

  it.each([
    [5, 2.866515718791939e-7],
    [8, 6.220960574271785e-16],
    [10, 7.619853024160527e-24],
  ])('keeps relative precision in the tail: P(Z > %d) = %d', (z, p) => {
    expect(Math.abs(normalSurvival(z) - p) / p).toBeLessThan(1e-13);
  });

  it('is a distribution: monotone, symmetric, 0 and 1 at the ends', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -40, max: 40, noNaN: true }),
        fc.double({ min: 0, max: 5, noNaN: true }),
        (z, d) => {
          expect(normalCdf(z + d)).toBeGreaterThanOrEqual(normalCdf(z));
          expect(normalCdf(z) + normalSurvival(z)).toBeCloseTo(1, 14);
          expect(normalCdf(-z)).toBeCloseTo(normalSurvival(z), 15);
        },
      ),
    );
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });
});

describe('mannWhitneyJudge: hand-computed example', () => {
  // canary [4, 5, 5, 7] against stable [1, 2, 3, 5]; pooled and ranked:
  //   1ˢ 2ˢ 3ˢ 4ᶜ 5ᶜ 5ᶜ 5ˢ 7ᶜ  →  ranks 1 2 3 4 6 6 6 8 (the three 5s share (5+6+7)/3 = 6)
  //   R(canary) = 4 + 6 + 6 + 8 = 24, U(canary) = 24 − 4·5/2 = 14
  //   (by pairs: 4 beats 3 stable values, each 5 beats 3 and ties 1 → 3.5, 7 beats 4: 3 + 7 + 4 = 14)
  //   μ = 4·4/2 = 8; one tie group of 3 → Σ(t³ − t) = 24
  //   σ² = 4·4/12 · (9 − 24/(8·7)) = 4/3 · 60/7 = 80/7, σ = 3.3806…
  //   z = (14 − 8 − ½)/σ = 5.5/√(80/7) = 1.626922…, one-sided p = 1 − Φ(1.626922) ≈ 0.051877
  //   medians: canary 5, stable 2.5 → the canary is 100% worse (lower is better)
  const canary = [4, 5, 5, 7];
  const stable = [1, 2, 3, 5];

  it('computes U, z, p and the effect', () => {
    const result = mannWhitneyJudge(canary, stable);
    expect(result.u).toBe(14);
    expect(result.z).toBeCloseTo(5.5 / Math.sqrt(80 / 7), 12);
    expect(result.z).toBeCloseTo(1.626922, 6);
    // Tables interpolated between Φ(1.62) = 0.94738 and Φ(1.63) = 0.94845 give p ≈ 0.05188;
    // Simpson integration of the normal density from z to 40 gives 0.0518768387605.
    expect(result.pValue).toBeCloseTo(0.051877, 5);
    expect(result.effect).toBe(1);
    expect(result.medians).toEqual({ canary: 5, stable: 2.5 });
    expect(result.sizes).toEqual({ canary: 4, stable: 4 });
  });

  it('is marginal at 95% confidence (p ≈ 0.052 ≥ 0.05) and fails at 90%', () => {
    expect(mannWhitneyJudge(canary, stable, { confidence: 0.95 }).verdict).toBe('marginal');
    const at90 = mannWhitneyJudge(canary, stable, { confidence: 0.9 });
    expect(at90.verdict).toBe('fail');
    expect(at90.reason).toBe(
      'canary median 5 vs stable 2.5: 100.0% worse (lower-is-better, tolerance 10.0%); significantly worse (p=0.0519 < α=0.100)',
    );
  });

  it('passes when the tolerance covers the difference, and when higher is better', () => {
    expect(mannWhitneyJudge(canary, stable, { tolerance: 1 }).verdict).toBe('pass');
    const higher = mannWhitneyJudge(canary, stable, { direction: 'higher-is-better' });
    expect(higher.verdict).toBe('pass');
    expect(higher.effect).toBe(-0.5);
    expect(higher.pValue).toBeGreaterThan(0.9);
  });

  it('textbook example without ties: U = 2 for [3,4,2,6,2,5] against [9,7,5,10,6,8]', () => {
    // canary ranks: 2,2 → 1.5 each; 3 → 3; 4 → 4; 5 ties with stable 5 → 5.5; 6 ties with stable 6 → 7.5
    // R = 1.5 + 1.5 + 3 + 4 + 5.5 + 7.5 = 23, U = 23 − 21 = 2
    const result = mannWhitneyJudge([3, 4, 2, 6, 2, 5], [9, 7, 5, 10, 6, 8], {
      direction: 'higher-is-better',
    });
    expect(result.u).toBe(2);
    expect(result.verdict).toBe('fail');
    expect(result.pValue).toBeLessThan(0.01);
  });
});

describe('mannWhitneyJudge: rules and inputs', () => {
  it('passes identical constant samples with p = 1 and z = 0', () => {
    expect(mannWhitneyJudge([2, 2, 2], [2, 2])).toMatchObject({
      verdict: 'pass',
      z: 0,
      pValue: 1,
      effect: 0,
      u: 3,
    });
  });

  it('reports an unbounded effect as null when the better median is 0', () => {
    const result = mannWhitneyJudge([0.2, 0.3, 0.25, 0.3, 0.2, 0.3, 0.2, 0.4], [0, 0, 0, 0, 0, 0, 0, 0], {
      direction: 'lower-is-better',
    });
    expect(result.effect).toBeNull();
    expect(result.verdict).toBe('fail');
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(mannWhitneyJudge([0, 0], [0, 0]).effect).toBe(0);
  });

  it('is marginal for a big but unproven difference (one value each)', () => {
    expect(mannWhitneyJudge([10], [1]).verdict).toBe('marginal');
  });

  it.each([
    [[], [1], /canary sample is empty/],
    [[1], [], /stable sample is empty/],
    [[1, NaN], [1], /canary\[1\] is NaN/],
    [[1], [-1], /stable\[0\] is -1/],
    [[1], [Infinity], /stable\[0\] is Infinity/],
  ])('refuses %j against %j', (canary, stable, message) => {
    expect(() => mannWhitneyJudge(canary, stable)).toThrow(AnalysisInputError);
    expect(() => mannWhitneyJudge(canary, stable)).toThrow(message);
  });

  it('refuses out-of-range options', () => {
    expect(() => mannWhitneyJudge([1], [1], { confidence: 1 })).toThrow(/confidence must be in \[0.5, 1\)/);
    expect(() => mannWhitneyJudge([1], [1], { confidence: 0.4 })).toThrow(/confidence/);
    expect(() => mannWhitneyJudge([1], [1], { tolerance: -0.1 })).toThrow(/tolerance/);
    expect(() => mannWhitneyJudge([1], [1], { direction: 'sideways' as JudgeDirection })).toThrow(
      /direction/,
    );
  });
});

describe('mannWhitneyJudge: properties', () => {
  // Values on a coarse grid so that ties, which exercise the tie correction, are common.
  const value = fc.integer({ min: 0, max: 40 }).map((v) => v / 4);
  const sample = fc.array(value, { minLength: 1, maxLength: 40 });
  const options = fc.record({
    confidence: fc.constantFrom(0.5, 0.8, 0.9, 0.95, 0.99),
    tolerance: fc.constantFrom(0, 0.05, 0.1, 0.5),
  });
  const reverse = (d: JudgeDirection): JudgeDirection =>
    d === 'lower-is-better' ? 'higher-is-better' : 'lower-is-better';

  it('is symmetric: swapping the samples and reversing the direction changes nothing but U', () => {
    fc.assert(
      fc.property(
        sample,
        sample,
        options,
        fc.constantFrom<JudgeDirection>('lower-is-better', 'higher-is-better'),
        (c, s, o, d) => {
          const a = mannWhitneyJudge(c, s, { ...o, direction: d });
          const b = mannWhitneyJudge(s, c, { ...o, direction: reverse(d) });
          expect(b.verdict).toBe(a.verdict);
          expect(b.z).toBe(a.z);
          expect(b.pValue).toBe(a.pValue);
          expect(b.effect).toBe(a.effect);
          expect(b.u).toBe(c.length * s.length - a.u);
        },
      ),
    );
  });

  it('identical samples never fail, whatever the options', () => {
    fc.assert(
      fc.property(
        sample,
        options,
        fc.constantFrom<JudgeDirection>('lower-is-better', 'higher-is-better'),
        (x, o, d) => {
          const result = mannWhitneyJudge(x, [...x].reverse(), { ...o, direction: d });
          expect(result.verdict).toBe('pass');
          expect(result.effect).toBe(0);
          expect(result.pValue).toBeGreaterThanOrEqual(0.5);
        },
      ),
    );
  });

  it('U lies in [0, n₁n₂], p in [0, 1], and the result is plain JSON', () => {
    fc.assert(
      fc.property(sample, sample, options, (c, s, o) => {
        const result = mannWhitneyJudge(c, s, o);
        expect(result.u).toBeGreaterThanOrEqual(0);
        expect(result.u).toBeLessThanOrEqual(c.length * s.length);
        expect(result.pValue).toBeGreaterThanOrEqual(0);
        expect(result.pValue).toBeLessThanOrEqual(1);
        expect(JSON.parse(JSON.stringify(result))).toEqual(result);
      }),
    );
  });

  it('a canary entirely above tolerance with 8+ values each fails at 95%', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 2, noNaN: true }), { minLength: 8, maxLength: 30 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 30 }),
        (stableRaw, noise) => {
          const stable = stableRaw;
          const top = Math.max(...stable);
          const canary = noise.map((x) => top * 1.2 + x);
          expect(mannWhitneyJudge(canary, stable, { confidence: 0.95, tolerance: 0.1 }).verdict).toBe('fail');
        },
      ),
    );
  });

  it('is deterministic: the same samples in any order give the same result', () => {
    fc.assert(
      fc.property(sample, sample, fc.func(fc.integer()), (c, s, order) => {
        const shuffle = (xs: number[]) => [...xs].sort((x, y) => order(x) - order(y));
        expect(mannWhitneyJudge(shuffle(c), shuffle(s))).toEqual(mannWhitneyJudge(c, s));
      }),
    );
  });
});
