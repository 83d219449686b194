import {
  ConditionEvaluationError,
  parseCondition,
  evaluateCondition,
  UNDETERMINED,
  type ConditionResult,
} from './condition.ts';
import { MeasurementPhase } from './schema.ts';
import type { Metric } from './schema.ts';

/** The judgement of one measurement's values. */
export interface MeasurementAssessment {
  phase: MeasurementPhase;
  /** Why, in words: which condition held, or why neither could be evaluated. */
  message: string;
  /** Set for an `Error` phase: the code of the evaluation error. */
  errorCode?: string;
}

/** What in `values` left a condition undetermined, in words. */
function describeUnjudgeable(values: readonly number[]): string {
  if (values.length === 0) return 'the query returned no data';
  const odd = [...new Set(values.filter((v) => !Number.isFinite(v)).map(String))];
  if (odd.length === 0) return 'a computed value is NaN or infinite';
  return `the query returned ${odd.join(', ')} (0/0 or x/0: e.g. no traffic)`;
}

/**
 * Judges one measurement's values (`result`) by the metric's conditions:
 *
 * - no condition at all → `Inconclusive` (values are collected for a human to judge);
 * - a condition cannot be evaluated over the values (e.g. `result[2]` of a two-value result)
 *   → `Error`, which counts towards `consecutiveErrorLimit`;
 * - the failure condition holds → `Failed` (it wins when both hold);
 * - a condition is undetermined (it compared a NaN, ±Inf or a value an empty result does
 *   not have, without testing for it with `isNaN`, `isInf` or `len`) → `Inconclusive`: no
 *   data is never a success, and the rollout pauses for a human;
 * - else the success condition holds → `Successful`;
 * - only a success condition, and it does not hold → `Failed`;
 * - only a failure condition, and it does not hold → `Successful`;
 * - both conditions, neither holds → `Inconclusive`.
 */
export function assessMeasurement(
  metric: Pick<Metric, 'successCondition' | 'failureCondition'>,
  values: readonly number[],
): MeasurementAssessment {
  const { successCondition, failureCondition } = metric;
  if (successCondition === undefined && failureCondition === undefined)
    return {
      phase: MeasurementPhase.inconclusive,
      message: 'the metric has no success or failure condition; a human judges its values',
    };
  let failed: ConditionResult | undefined;
  let succeeded: ConditionResult | undefined;
  try {
    if (failureCondition !== undefined) failed = evaluateCondition(parseCondition(failureCondition), values);
    if (successCondition !== undefined)
      succeeded = evaluateCondition(parseCondition(successCondition), values);
  } catch (err) {
    if (!(err instanceof ConditionEvaluationError)) throw err;
    const which =
      failed === undefined && failureCondition !== undefined ? 'failureCondition' : 'successCondition';
    return { phase: MeasurementPhase.error, message: `${which}: ${err.message}`, errorCode: err.code };
  }
  if (failed === true)
    return { phase: MeasurementPhase.failed, message: `failureCondition holds: ${failureCondition}` };
  const undetermined = [
    ...(failed === UNDETERMINED ? [`failureCondition (${failureCondition})`] : []),
    ...(succeeded === UNDETERMINED ? [`successCondition (${successCondition})`] : []),
  ];
  if (undetermined.length > 0)
    return {
      phase: MeasurementPhase.inconclusive,
      message: `${describeUnjudgeable(values)}; ${undetermined.join(' and ')} cannot judge it (test for it with isNaN(…), isInf(…) or len(result) to decide)`,
    };
  if (succeeded === true)
    return { phase: MeasurementPhase.successful, message: `successCondition holds: ${successCondition}` };
  if (succeeded === false && failed === undefined)
    return { phase: MeasurementPhase.failed, message: `successCondition does not hold: ${successCondition}` };
  if (failed === false && succeeded === undefined)
    return {
      phase: MeasurementPhase.successful,
      message: `failureCondition does not hold: ${failureCondition}`,
    };
  return {
    phase: MeasurementPhase.inconclusive,
    message: `neither successCondition (${successCondition}) nor failureCondition (${failureCondition}) holds`,
  };
}
