import { ConditionEvaluationError, parseCondition, evaluateCondition } from './condition.ts';
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

/**
 * Judges one measurement's values (`result`) by the metric's conditions:
 *
 * - the failure condition holds → `Failed` (it wins when both hold);
 * - else the success condition holds → `Successful`;
 * - only a success condition, and it does not hold → `Failed`;
 * - only a failure condition, and it does not hold → `Successful`;
 * - both conditions, neither holds → `Inconclusive`;
 * - no condition at all → `Inconclusive` (values are collected for a human to judge);
 * - a condition cannot be evaluated over the values (e.g. `result[0]` of an empty result) →
 *   `Error`, which counts towards `consecutiveErrorLimit`.
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
  let failed: boolean | undefined;
  let succeeded: boolean | undefined;
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
