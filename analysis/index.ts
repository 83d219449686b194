/**
 * Sentinel's analysis engine for progressive delivery: Argo-Rollouts-style analysis templates
 * and metrics, the condition language, the rules that fold measurements into a decision, and
 * a Mann-Whitney judge of canary against stable samples. Pure and deterministic (no I/O, no
 * clock, no randomness), so workflows call it directly; the Prometheus side is in
 * activities/prometheus.ts. See docs/analysis.md.
 *
 * @module
 */

export { assessMeasurement } from './assess.ts';
export type { MeasurementAssessment } from './assess.ts';
export {
  CONDITION_FUNCTIONS,
  ConditionEvaluationError,
  ConditionSyntaxError,
  evaluateCondition,
  MAX_CONDITION_LENGTH,
  parseCondition,
  UNDETERMINED,
} from './condition.ts';
export type { Condition, ConditionFunction, ConditionResult } from './condition.ts';
export { AnalysisError, AnalysisErrorCode, AnalysisInputError, AnalysisValidationError } from './errors.ts';
export type { AnalysisIssue } from './errors.ts';
export {
  JudgeDirection,
  JudgeVerdict,
  mannWhitneyJudge,
  mannWhitneyOptionsWithDefaults,
} from './mann-whitney.ts';
export type {
  MannWhitneyOptions,
  MannWhitneyOptionsWithDefaults,
  MannWhitneyResult,
} from './mann-whitney.ts';
export { erfc, normalCdf, normalSurvival } from './normal.ts';
export {
  AnalysisDecision,
  AnalysisDecisionReason,
  analysisRunState,
  effectiveCount,
  ERROR_RETRY_DELAY_MS,
  metricRunState,
} from './run-state.ts';
export type {
  AnalysisRunState,
  MeasurementCounts,
  MetricRunPolicy,
  MetricRunState,
  RunStateOptions,
} from './run-state.ts';
export { decodeSampleValue, encodeSampleValue, SampleValueSchema } from './sample-value.ts';
export type { SampleValue } from './sample-value.ts';
export {
  ANALYSIS_NAME_PATTERN,
  AnalysisArgSchema,
  AnalysisDurationSchema,
  AnalysisTemplateSchema,
  ARG_NAME_PATTERN,
  ARG_PLACEHOLDER_PATTERN,
  ConditionSourceSchema,
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  MeasurementPhase,
  MeasurementSchema,
  MetricProviderSchema,
  MetricSchema,
} from './schema.ts';
export type {
  AnalysisArg,
  AnalysisTemplate,
  AnalysisTemplateInput,
  Measurement,
  Metric,
  MetricInput,
} from './schema.ts';
export { resolveAnalysisTemplate, validateAnalysisTemplate, validateMetric } from './template.ts';
