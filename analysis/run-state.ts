import { parseDuration } from '../policy/duration.ts';
import { MeasurementPhase } from './schema.ts';
import type { Measurement, Metric } from './schema.ts';

/**
 * How long after an Error measurement (Prometheus unreachable, a query that timed out) the
 * metric is measured again, at most: a transient outage costs one Error rather than one per
 * interval, and a one-shot metric (no interval) does not spend its `consecutiveErrorLimit`
 * within a second. Argo Rollouts waits the same 10 s. A metric with a shorter `interval`
 * retries at its interval.
 */
export const ERROR_RETRY_DELAY_MS = 10_000;

/** What an analysis (or one metric of it) has come to. */
export const AnalysisDecision = {
  /** Take another measurement after `nextMeasurementDelayMs`. */
  continue: 'continue',
  successful: 'successful',
  /** Roll back. */
  failed: 'failed',
  /** Neither: pause for a human to promote or abort. */
  inconclusive: 'inconclusive',
} as const;
export type AnalysisDecision = (typeof AnalysisDecision)[keyof typeof AnalysisDecision];

/** Which rule produced a decision. */
export const AnalysisDecisionReason = {
  /** No limit crossed and the count not reached yet. */
  measuring: 'measuring',
  countReached: 'count-reached',
  failureLimit: 'failure-limit',
  inconclusiveLimit: 'inconclusive-limit',
  consecutiveErrorLimit: 'consecutive-error-limit',
  /** The caller ended the analysis (e.g. the rollout finished its steps) with no limit crossed. */
  terminated: 'terminated',
} as const;
export type AnalysisDecisionReason = (typeof AnalysisDecisionReason)[keyof typeof AnalysisDecisionReason];

/** Tallies of a metric's measurements, Argo's MetricResult counters. */
export interface MeasurementCounts {
  /** Measurements that count towards `count`: every phase but Error. */
  measured: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  /** Error measurements since the last non-Error one. */
  consecutiveErrors: number;
}

/** Where one metric stands. */
export interface MetricRunState {
  decision: AnalysisDecision;
  reason: AnalysisDecisionReason;
  /** The rule in words, e.g. `failed (2) > failureLimit (1)`. */
  message: string;
  /** Tallies up to the deciding measurement (all of them while continuing). */
  counts: MeasurementCounts;
  /** 0-based index of the measurement that decided; absent while continuing or when terminated. */
  decidedBy?: number;
  /**
   * With `continue`: milliseconds to wait before the next measurement: `initialDelay` before
   * the first, `interval` after a measurement, and after an Error measurement
   * {@link ERROR_RETRY_DELAY_MS} or the interval, whichever is shorter.
   */
  nextMeasurementDelayMs?: number;
}

/** Options of {@link metricRunState} and {@link analysisRunState}. */
export interface RunStateOptions {
  /**
   * The analysis is being ended from outside (the rollout finished, or an operator stopped a
   * background analysis): a metric that crossed no limit is then `successful`.
   * @default false
   */
  terminated?: boolean;
  /**
   * Retry an Error measurement at the metric's interval, as workflows recorded before
   * {@link ERROR_RETRY_DELAY_MS} existed did; only for replaying their histories.
   * @default false
   */
  retryErrorsAtInterval?: boolean;
}

/** The metric fields that govern its run. */
export type MetricRunPolicy = Pick<
  Metric,
  'count' | 'interval' | 'initialDelay' | 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit'
>;

/** `count`, or 1 for a metric with neither count nor interval; undefined = until stopped. */
export function effectiveCount(metric: Pick<Metric, 'count' | 'interval'>): number | undefined {
  return metric.count ?? (metric.interval === undefined ? 1 : undefined);
}

/**
 * Folds a metric's measurements, oldest first, into a decision with Argo Rollouts'
 * semantics. After each measurement, in this order:
 *
 * 1. `failed > failureLimit` → `failed` (failure-limit);
 * 2. `inconclusive > inconclusiveLimit` → `inconclusive` (inconclusive-limit);
 * 3. `consecutiveErrors > consecutiveErrorLimit` → `failed` (consecutive-error-limit);
 * 4. the effective count is reached (Error measurements do not count) → `successful`.
 *
 * The first measurement that triggers a rule decides; later ones cannot change it. With no
 * rule triggered the metric continues, or, when `terminated`, is `successful`. Pure and
 * deterministic: the workflow calls it after every measurement to know what to do next.
 */
export function metricRunState(
  metric: MetricRunPolicy,
  measurements: readonly Pick<Measurement, 'phase'>[],
  options: RunStateOptions = {},
): MetricRunState {
  const counts: MeasurementCounts = {
    measured: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveErrors: 0,
  };
  const count = effectiveCount(metric);
  for (const [i, measurement] of measurements.entries()) {
    switch (measurement.phase) {
      case MeasurementPhase.successful:
        counts.successful += 1;
        break;
      case MeasurementPhase.failed:
        counts.failed += 1;
        break;
      case MeasurementPhase.inconclusive:
        counts.inconclusive += 1;
        break;
      case MeasurementPhase.error:
        counts.error += 1;
        counts.consecutiveErrors += 1;
        break;
    }
    if (measurement.phase !== MeasurementPhase.error) {
      counts.measured += 1;
      counts.consecutiveErrors = 0;
    }
    const decided = (decision: AnalysisDecision, reason: AnalysisDecisionReason, message: string) => ({
      decision,
      reason,
      message,
      counts: { ...counts },
      decidedBy: i,
    });
    if (counts.failed > metric.failureLimit)
      return decided(
        AnalysisDecision.failed,
        AnalysisDecisionReason.failureLimit,
        `failed (${counts.failed}) > failureLimit (${metric.failureLimit})`,
      );
    if (counts.inconclusive > metric.inconclusiveLimit)
      return decided(
        AnalysisDecision.inconclusive,
        AnalysisDecisionReason.inconclusiveLimit,
        `inconclusive (${counts.inconclusive}) > inconclusiveLimit (${metric.inconclusiveLimit})`,
      );
    if (counts.consecutiveErrors > metric.consecutiveErrorLimit)
      return decided(
        AnalysisDecision.failed,
        AnalysisDecisionReason.consecutiveErrorLimit,
        `consecutive errors (${counts.consecutiveErrors}) > consecutiveErrorLimit (${metric.consecutiveErrorLimit})`,
      );
    if (count !== undefined && counts.measured >= count)
      return decided(
        AnalysisDecision.successful,
        AnalysisDecisionReason.countReached,
        `count (${count}) reached with no limit crossed`,
      );
  }
  if (options.terminated)
    return {
      decision: AnalysisDecision.successful,
      reason: AnalysisDecisionReason.terminated,
      message: `terminated after ${measurements.length} measurement${measurements.length === 1 ? '' : 's'} with no limit crossed`,
      counts,
    };
  return {
    decision: AnalysisDecision.continue,
    reason: AnalysisDecisionReason.measuring,
    message:
      count === undefined
        ? `${counts.measured} measured; runs until a limit is crossed or it is terminated`
        : `${counts.measured} of ${count} measured`,
    counts,
    nextMeasurementDelayMs: nextMeasurementDelayMs(metric, measurements, options),
  };
}

/** The wait before a continuing metric's next measurement; see {@link MetricRunState}. */
function nextMeasurementDelayMs(
  metric: MetricRunPolicy,
  measurements: readonly Pick<Measurement, 'phase'>[],
  options: RunStateOptions,
): number {
  const ms = (duration: string | undefined) => (duration === undefined ? 0 : (parseDuration(duration) ?? 0));
  if (measurements.length === 0) return ms(metric.initialDelay);
  const interval = ms(metric.interval);
  if (measurements.at(-1)!.phase !== MeasurementPhase.error || options.retryErrorsAtInterval) return interval;
  return interval > 0 ? Math.min(interval, ERROR_RETRY_DELAY_MS) : ERROR_RETRY_DELAY_MS;
}

/** Where a whole analysis stands: the combined decision and each metric's state. */
export interface AnalysisRunState {
  decision: AnalysisDecision;
  /** The deciding metric's message, prefixed with its name, or a summary. */
  message: string;
  metrics: Record<string, MetricRunState>;
}

/**
 * Combines the metrics of an analysis: `failed` as soon as any metric failed (the others
 * need not finish); else `continue` while any metric continues; else `inconclusive` if any
 * metric is; else `successful`. A metric with no entry in `measurements` has none yet.
 */
export function analysisRunState(
  metrics: readonly (MetricRunPolicy & Pick<Metric, 'name'>)[],
  measurements: Readonly<Record<string, readonly Pick<Measurement, 'phase'>[] | undefined>>,
  options: RunStateOptions = {},
): AnalysisRunState {
  const states: Record<string, MetricRunState> = {};
  for (const metric of metrics)
    states[metric.name] = metricRunState(metric, measurements[metric.name] ?? [], options);
  const entries = Object.entries(states);
  for (const decision of [
    AnalysisDecision.failed,
    AnalysisDecision.continue,
    AnalysisDecision.inconclusive,
  ]) {
    const deciding = entries.filter(([, state]) => state.decision === decision);
    if (deciding.length > 0)
      return {
        decision,
        message: deciding.map(([name, state]) => `${name}: ${state.message}`).join('; '),
        metrics: states,
      };
  }
  return { decision: AnalysisDecision.successful, message: 'every metric is successful', metrics: states };
}
