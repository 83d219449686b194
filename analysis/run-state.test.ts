import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assessMeasurement } from './assess.ts';
import { analysisRunState, effectiveCount, ERROR_RETRY_DELAY_MS, metricRunState } from './run-state.ts';
import type { MetricRunPolicy } from './run-state.ts';
import { MeasurementPhase, MetricSchema } from './schema.ts';
import type { Metric } from './schema.ts';

const { successful: S, failed: F, inconclusive: I, error: E } = MeasurementPhase;
const phases = (...list: MeasurementPhase[]) => list.map((phase) => ({ phase }));

function metric(overrides: Partial<Metric> = {}): Metric {
  return MetricSchema.parse({
    name: 'm',
    provider: { prometheus: { query: 'up' } },
    interval: '10s',
    count: 5,
    ...overrides,
  });
}

describe('assessMeasurement', () => {
  const both = { successCondition: 'result[0] >= 0.95', failureCondition: 'result[0] < 0.5' };
  it.each([
    [both, [0.99], S],
    [both, [0.1], F],
    [both, [0.7], I],
    [{ successCondition: 'result[0] >= 0.95' }, [0.7], F],
    [{ failureCondition: 'result[0] < 0.5' }, [0.7], S],
    [{ failureCondition: 'result[0] < 0.5' }, [0.1], F],
    [{}, [0.7], I],
    [both, [1, 2], S],
    [{ successCondition: 'true', failureCondition: 'true' }, [], F],
  ] as const)('%j over %j → %s', (conditions, values, phase) => {
    expect(assessMeasurement(conditions, values).phase).toBe(phase);
  });

  // Issue 14 item 1: a canary with no traffic answers NaN (0/0), ±Inf (x/0) or nothing. That is
  // never a success, whatever shape the conditions have: Inconclusive, so the rollout pauses
  // for a human, unless a condition tests for it explicitly.
  const guard = { failureCondition: 'result[0] >= 0.05' }; // error-rate-guard of the example
  const successOnly = { successCondition: 'result[0] < 0.05' };
  const bothShapes = { successCondition: 'result[0] < 0.01', failureCondition: 'result[0] >= 0.05' };
  const sumGuard = { failureCondition: 'sum(result) > 0.05' };
  it.each([
    ['failure only', guard],
    ['success only', successOnly],
    ['both', bothShapes],
    ['failure only, over sum()', sumGuard],
  ] as const)('%s: NaN, ±Inf and an empty result are Inconclusive', (_, conditions) => {
    for (const values of [[NaN], [Infinity], [-Infinity], []])
      expect(assessMeasurement(conditions, values).phase, JSON.stringify(values)).toBe(I);
  });

  it('says what the result held and how a condition can decide it', () => {
    expect(assessMeasurement(guard, [NaN])).toEqual({
      phase: I,
      message:
        'the query returned NaN (0/0 or x/0: e.g. no traffic); failureCondition (result[0] >= 0.05) cannot judge it (test for it with isNaN(…), isInf(…) or len(result) to decide)',
    });
    expect(assessMeasurement(successOnly, []).message).toMatch(
      /^the query returned no data; successCondition \(result\[0\] < 0.05\) cannot judge it/,
    );
  });

  it.each([
    [{ successCondition: 'isNaN(result[0]) || result[0] < 0.05' }, [NaN], S],
    [{ failureCondition: '!isNaN(result[0]) && result[0] >= 0.05' }, [NaN], S],
    [{ failureCondition: 'isNaN(result[0]) || result[0] >= 0.05' }, [NaN], F],
    [{ successCondition: '!isNaN(result[0]) && result[0] < 0.05' }, [NaN], F],
    [{ successCondition: 'len(result) == 0 || result[0] < 0.05' }, [], S],
    [{ failureCondition: 'isInf(result[0])' }, [Infinity], F],
    // A definite failure wins over an undetermined success condition.
    [{ successCondition: 'result[1] < 0.05', failureCondition: 'result[0] >= 0.05' }, [0.5, NaN], F],
    // An undetermined failure condition is no success, even when the success condition holds.
    [{ successCondition: 'result[0] < 0.05', failureCondition: 'result[1] >= 0.05' }, [0.01, NaN], I],
  ] as const)('a condition that tests for it decides: %j over %j → %s', (conditions, values, phase) => {
    expect(assessMeasurement(conditions, values).phase).toBe(phase);
  });

  it('says which condition could not be evaluated and why', () => {
    expect(assessMeasurement(both, [0.7])).toEqual({
      phase: I,
      message: 'neither successCondition (result[0] >= 0.95) nor failureCondition (result[0] < 0.5) holds',
    });
    expect(assessMeasurement({ failureCondition: 'result[1] > 0' }, [1])).toEqual({
      phase: E,
      message: 'failureCondition: column 1: result[1] is out of range: the query returned 1 value',
      errorCode: 'SENTINEL_ERR_ANALYSIS_INPUT',
    });
    expect(assessMeasurement({ successCondition: 'result[1] > 0' }, [1]).message).toMatch(
      /^successCondition: /,
    );
  });
});

describe('metricRunState', () => {
  it('continues until count, then succeeds; Error measurements do not count', () => {
    const m = metric({ count: 3 });
    expect(metricRunState(m, [])).toMatchObject({ decision: 'continue', nextMeasurementDelayMs: 0 });
    expect(metricRunState(m, phases(S, E, S))).toMatchObject({
      decision: 'continue',
      message: '2 of 3 measured',
      nextMeasurementDelayMs: 10_000,
      counts: { measured: 2, successful: 2, error: 1, consecutiveErrors: 0 },
    });
    expect(metricRunState(m, phases(S, E, S, S))).toMatchObject({
      decision: 'successful',
      reason: 'count-reached',
      decidedBy: 3,
    });
  });

  it('waits initialDelay before the first measurement and interval between the others', () => {
    const m = metric({ initialDelay: '1m', interval: '30s' });
    expect(metricRunState(m, []).nextMeasurementDelayMs).toBe(60_000);
    expect(metricRunState(m, phases(S)).nextMeasurementDelayMs).toBe(30_000);
  });

  // Issue 14 item 2: an Error measurement is retried after its own bounded delay, not the
  // interval: 0 s for a one-shot metric spent the whole consecutiveErrorLimit within a second,
  // and 5 m made a transient error cost 5 minutes.
  it.each([
    ['a one-shot metric (no interval)', { count: undefined, interval: undefined }, ERROR_RETRY_DELAY_MS],
    ['interval 5m', { count: 3, interval: '5m' }, ERROR_RETRY_DELAY_MS],
    ['interval 30s', { count: 3, interval: '30s' }, ERROR_RETRY_DELAY_MS],
    ['interval 2s (never longer than the interval)', { count: 3, interval: '2s' }, 2_000],
  ] as const)('retries an Error after ERROR_RETRY_DELAY_MS or the interval: %s', (_, fields, delay) => {
    const m = metric(fields);
    expect(ERROR_RETRY_DELAY_MS).toBe(10_000);
    expect(metricRunState(m, phases(E))).toMatchObject({
      decision: 'continue',
      nextMeasurementDelayMs: delay,
    });
    expect(metricRunState(m, phases(E, E, E))).toMatchObject({ nextMeasurementDelayMs: delay });
  });

  it('waits the interval again once a measurement succeeds after an Error', () => {
    const m = metric({ count: 5, interval: '5m' });
    expect(metricRunState(m, phases(E, S)).nextMeasurementDelayMs).toBe(300_000);
    // Histories recorded before the error delay replay with the interval.
    expect(metricRunState(m, phases(E), { retryErrorsAtInterval: true }).nextMeasurementDelayMs).toBe(
      300_000,
    );
  });

  it('turns a 3 s outage of a one-shot metric into one Error, then success', () => {
    const once = metric({ count: undefined, interval: undefined });
    const afterError = metricRunState(once, phases(E));
    expect(afterError).toMatchObject({ decision: 'continue', counts: { error: 1, consecutiveErrors: 1 } });
    expect(afterError.nextMeasurementDelayMs).toBeGreaterThan(3_000);
    expect(metricRunState(once, phases(E, S))).toMatchObject({
      decision: 'successful',
      reason: 'count-reached',
    });
  });

  it('fails on the measurement that takes failures past failureLimit', () => {
    const m = metric({ count: 10, failureLimit: 2 });
    expect(metricRunState(m, phases(F, S, F)).decision).toBe('continue');
    expect(metricRunState(m, phases(F, S, F, F))).toMatchObject({
      decision: 'failed',
      reason: 'failure-limit',
      message: 'failed (3) > failureLimit (2)',
      decidedBy: 3,
    });
  });

  it('succeeds at count with failures and inconclusives within their limits', () => {
    const m = metric({ count: 4, failureLimit: 1, inconclusiveLimit: 1 });
    expect(metricRunState(m, phases(F, I, S, S))).toMatchObject({
      decision: 'successful',
      reason: 'count-reached',
    });
  });

  it('is inconclusive past inconclusiveLimit (the rollout pauses for a human)', () => {
    expect(metricRunState(metric(), phases(S, I))).toMatchObject({
      decision: 'inconclusive',
      reason: 'inconclusive-limit',
      message: 'inconclusive (1) > inconclusiveLimit (0)',
    });
  });

  it('fails after more consecutive errors than consecutiveErrorLimit; a good measurement resets the run', () => {
    const m = metric({ count: 20, consecutiveErrorLimit: 2 });
    expect(metricRunState(m, phases(E, E, S, E, E)).decision).toBe('continue');
    expect(metricRunState(m, phases(E, E, S, E, E, E))).toMatchObject({
      decision: 'failed',
      reason: 'consecutive-error-limit',
      message: 'consecutive errors (3) > consecutiveErrorLimit (2)',
    });
    expect(metricRunState(metric({ consecutiveErrorLimit: 0 }), phases(E)).decision).toBe('failed');
  });

  it('measures once without count or interval, and forever with an interval only', () => {
    const once = metric({ count: undefined, interval: undefined });
    expect(effectiveCount(once)).toBe(1);
    expect(metricRunState(once, phases(S)).decision).toBe('successful');
    const forever = metric({ count: undefined, interval: '5s' });
    expect(effectiveCount(forever)).toBeUndefined();
    expect(metricRunState(forever, phases(...Array<MeasurementPhase>(50).fill(S)))).toMatchObject({
      decision: 'continue',
      message: '50 measured; runs until a limit is crossed or it is terminated',
    });
    expect(metricRunState(forever, phases(S, S), { terminated: true })).toMatchObject({
      decision: 'successful',
      reason: 'terminated',
    });
    expect(metricRunState(forever, phases(F), { terminated: true }).decision).toBe('failed');
  });

  const arbPolicy: fc.Arbitrary<MetricRunPolicy> = fc.record({
    count: fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }),
    interval: fc.option(fc.constantFrom('1s', '30s'), { nil: undefined }),
    initialDelay: fc.option(fc.constant('5s'), { nil: undefined }),
    failureLimit: fc.integer({ min: 0, max: 3 }),
    inconclusiveLimit: fc.integer({ min: 0, max: 3 }),
    consecutiveErrorLimit: fc.integer({ min: 0, max: 4 }),
  });
  const arbPhases = fc.array(fc.constantFrom(S, F, I, E), { maxLength: 30 }).map((list) => phases(...list));

  it('property: once decided, later measurements never change the decision', () => {
    fc.assert(
      fc.property(arbPolicy, arbPhases, arbPhases, (policy, before, after) => {
        const state = metricRunState(policy, before);
        if (state.decision === 'continue') return;
        expect(metricRunState(policy, [...before, ...after])).toEqual(state);
      }),
    );
  });

  it('property: counters add up, and a continuing metric crossed no limit', () => {
    fc.assert(
      fc.property(arbPolicy, arbPhases, (policy, list) => {
        const state = metricRunState(policy, list);
        const c = state.counts;
        expect(c.successful + c.failed + c.inconclusive).toBe(c.measured);
        expect(c.measured + c.error).toBe(state.decidedBy === undefined ? list.length : state.decidedBy + 1);
        if (state.decision === 'continue') {
          expect(c.failed).toBeLessThanOrEqual(policy.failureLimit);
          expect(c.inconclusive).toBeLessThanOrEqual(policy.inconclusiveLimit);
          expect(c.consecutiveErrors).toBeLessThanOrEqual(policy.consecutiveErrorLimit);
          expect(metricRunState(policy, list, { terminated: true }).decision).toBe('successful');
        }
      }),
    );
  });
});

describe('analysisRunState', () => {
  const a = metric({ name: 'a', count: 2 });
  const b = metric({ name: 'b', count: 2 });
  it('fails as soon as one metric fails, even while others continue', () => {
    expect(analysisRunState([a, b], { a: phases(F), b: phases(S) })).toMatchObject({
      decision: 'failed',
      message: 'a: failed (1) > failureLimit (0)',
    });
  });
  it('continues while any metric continues, then takes inconclusive over successful', () => {
    expect(analysisRunState([a, b], { a: phases(S, S) }).decision).toBe('continue');
    expect(analysisRunState([a, b], { a: phases(S, S), b: phases(S, I) }).decision).toBe('inconclusive');
    expect(analysisRunState([a, b], { a: phases(S, S), b: phases(S, S) })).toMatchObject({
      decision: 'successful',
      metrics: { a: { decision: 'successful' }, b: { decision: 'successful' } },
    });
  });
});
